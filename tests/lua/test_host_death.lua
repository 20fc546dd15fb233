-- A host that dies (here: a Lua 5.4.4 interpreter crash) takes only its own
-- processes; watchers on other hosts get EXIT and LINK_DOWN naming the
-- cause; a host with restart: true comes back with fresh PIDs.
local check = require("check")
local time = require("time")

return { main = function()
  process.set_options({ trap_links = true })
  local ev = process.events()
  local victim = check.ok(process.spawn_monitored("t:blocker", "t:crashy"))
  check.ok(process.link(victim))
  local crasher = check.ok(process.spawn_monitored("t:crasher", "t:crashy", 20000))
  local e = check.event(ev, process.event.EXIT, crasher, "10s", "crasher exit")
  check.ok(tostring(e.result.error):find("host t:crashy died", 1, true), tostring(e.result.error))
  -- A segfault (signal 11); under AddressSanitizer the crash is caught and
  -- the host exits with status 1 instead.
  local why = tostring(e.result.error)
  check.ok(why:find("signal 11", 1, true) or why:find("exited with status 1", 1, true), why)
  e = check.event(ev, process.event.EXIT, victim, "1s", "bystander exit")
  check.ok(tostring(e.result.error):find("host t:crashy died", 1, true))
  check.event(ev, process.event.LINK_DOWN, victim, "1s", "link down from dead host")
  -- The other hosts carry on.
  check.eq(process.exec("t:value_exit", "t:b", "fine"), "fine")
  -- restart: true brings the host back; PIDs are never reused.
  local again
  for _ = 1, 100 do
    again = process.spawn("t:value_exit", "t:crashy", 1)
    if again then break end
    time.sleep("20ms")
  end
  check.ok(again, "host restarted")
  local function counter(p) return tonumber(p:match("|0x(%x+)}"), 16) end
  check.ok(counter(again) > counter(victim), "fresh PID after restart")
  return true
end }
