-- Monitors 'target' and tells 'to' (topic "died") once it has ended.
return { main = function(target, to)
  local events = process.events()
  process.monitor(target)
  process.send(to, "relay_ready", true)
  while true do
    local ev = events:receive()
    if ev.kind == process.event.EXIT and ev.from == target then
      process.send(to, "died", target)
      return true
    end
  end
end }
