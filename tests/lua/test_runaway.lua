-- Runaway code is contained: a busy loop (even inside pcall) ends with a
-- CPU-limit error that pcall cannot catch; a C function that never comes
-- back gets its host killed at the turn deadline; others carry on.
local check = require("check")
local time = require("time")

return { main = function()
  local ev = process.events()
  for _, how in ipairs({ "loop", "pcall" }) do
    local pid = check.ok(process.spawn_monitored("t:spinner", "t:budget", how))
    local e = check.event(ev, process.event.EXIT, pid, "5s", how)
    check.eq(e.result.error:kind(), errors.LIMIT_EXCEEDED, how)
    check.ok(tostring(e.result.error):find("cpu budget exceeded", 1, true), tostring(e.result.error))
  end
  -- The host of t:budget still serves.
  check.eq(process.exec("t:value_exit", "t:budget", 3), 3)
  -- A pattern that runs for seconds inside string.find: the host is killed
  -- as unresponsive and the watcher hears why (the pattern never returns
  -- a value). How fast is a benchmark question, not asserted here.
  local pid = check.ok(process.spawn_monitored("t:spinner", "t:slow", "pattern"))
  local e = check.event(ev, process.event.EXIT, pid, "5s", "pattern")
  check.ok(tostring(e.result.error):find("unresponsive", 1, true), tostring(e.result.error))
  check.eq(process.exec("t:value_exit", "t:b", 1), 1, "other hosts carry on")
  return true
end }
