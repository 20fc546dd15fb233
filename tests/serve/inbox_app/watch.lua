-- watch(dest): monitors dest and prints "watch: exit <from> <error?>"
-- when its EXIT comes.
return { main = function(dest)
  local ev = process.events()
  assert(process.monitor(dest))
  print("watch: monitoring " .. dest)
  while true do
    local e = ev:receive()
    if e.kind == "pid.exit" then
      print("watch: exit " .. e.from .. " " .. tostring(e.result.error))
      return true
    end
  end
end }
