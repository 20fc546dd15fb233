-- An attacker-owned mailbox sink (esc:atk_sink): reads nothing until
-- 'gate' (a PID) has ended, then drains every "fill" message and reports
-- how many it got and whether they came in order (1, 2, 3, ...) to
-- 'report' on "count". The gate's EXIT event reaches it even with a full
-- mailbox (events are never refused), so how long the flood takes does
-- not matter.
local time = require("time")
return { main = function(report, gate)
  local fill = process.listen("fill")
  local ev = process.events()
  -- A gate already gone (the flood ran before the sink did) is not found.
  if process.monitor(gate) then
    repeat
      local e = ev:receive()
    until e.kind == process.event.EXIT and e.from == gate
  end
  local n, ordered = 0, true
  while true do
    local r = channel.select({ fill:case_receive(), time.after("100ms"):case_receive() })
    if r.channel ~= fill then break end
    n = n + 1
    if r.value ~= n then ordered = false end
  end
  process.send(report, "count", { n = n, ordered = ordered })
  return n
end }
