-- For modes msgflood, msgbytes, msgsmall and msgown: on host lk:far (a
-- mailbox of 16), says hello to lk:evil's process `victim` (so that the
-- lying host learns this PID), reads nothing for `wait` while lk:evil
-- floods it past its credit, then takes what arrived (its mailbox, then
-- what waited at its host for room) until none comes for a second, and
-- tells `main_pid` how many on topic "sunk".
local time = require("time")
return { main = function(main_pid, victim, wait)
  local ch = process.listen("flood")
  assert(process.send(victim, "hello", "sink"))
  time.sleep(wait)
  local n = 0
  while true do
    local r = channel.select({ ch:case_receive(), time.after("1s"):case_receive() })
    if r.channel ~= ch then break end
    n = n + 1
  end
  process.send(main_pid, "sunk", n)
end }
