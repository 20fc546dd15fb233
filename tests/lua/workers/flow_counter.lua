-- Counts the messages on "x"; at "count" answers its sender's 'to' (the
-- payload) with {who = its PID, n = the count} on "counted".
return { main = function()
  local x = process.listen("x")
  local q = process.listen("count", { message = true })
  local n = 0
  while true do
    local r = channel.select({ x:case_receive(), q:case_receive() })
    if r.channel == x then n = n + 1
    else process.send(r.value:payload(), "counted", { who = process.pid(), n = n }) end
  end
end }
