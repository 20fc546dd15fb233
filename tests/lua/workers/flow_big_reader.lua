-- Reads nothing until process 'gate' ends (its EXIT comes on the events
-- channel, which a full mailbox does not hold up), then takes 'total'
-- messages on topic "n" (or what came within 60 s) and tells 'report'
-- on "counted" how many, their bytes and the largest one's length.
local time = require("time")
return { main = function(gate, total, report)
  local ch = process.listen("n")
  local ev = process.events()
  assert(process.monitor(gate))
  repeat local e = ev:receive() until e.kind == process.event.EXIT and e.from == gate
  local n, bytes, big, deadline = 0, 0, 0, time.after("60s")
  while n < total do
    local r = channel.select({ ch:case_receive(), deadline:case_receive() })
    if r.channel ~= ch then break end
    n = n + 1
    bytes = bytes + #r.value
    if #r.value > big then big = #r.value end
  end
  process.send(report, "counted", { n = n, bytes = bytes, big = big })
end }
