-- An attacker-owned mailbox sink (esc:atk_sink): reads nothing for
-- 'wait', then drains every "fill" message and reports how many it got and
-- whether they came in order (1, 2, 3, ...) to 'report' on "count".
local time = require("time")
return { main = function(report, wait)
  local fill = process.listen("fill")
  time.sleep(wait or "300ms")
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
