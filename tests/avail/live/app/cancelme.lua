-- Prints "ready", then waits for CANCEL (ward's shutdown on SIGTERM or
-- SIGINT) and says so before it returns.
return { main = function()
  local ev = process.events()
  print("ready")
  while true do
    local e = ev:receive()
    if e.kind == process.event.CANCEL then
      print("got CANCEL")
      return "cancelled"
    end
  end
end }
