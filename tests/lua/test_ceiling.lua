-- A host may only claim the actors and scopes of its ceiling; a frame that
-- claims another is fatal for that host, and the other hosts carry on.
local check = require("check")

return { main = function()
  local ev = process.events()
  local args = process.listen("args")
  -- Within the ceiling: works.
  check.ok(process.spawn("t:reply_args", "t:ceil", process.pid(), "fine"))
  check.eq(check.recv(args, "3s", "reply from t:ceil")[1], "fine")
  -- A spawn from here that would put an actor outside t:ceil's ceiling
  -- there is refused.
  local b = process.with_context({}):with_actor({ id = "intruder" })
  check.fails(errors.PERMISSION_DENIED, b:spawn("t:reply_args", "t:ceil", process.pid(), "no"))
  -- The intruder: its child's cross-host send claims "intruder".
  local w = check.ok(process.spawn_monitored("t:intruder", "t:ceil", process.pid()))
  local e = check.event(ev, process.event.EXIT, w, "3s", "host killed")
  check.ok(tostring(e.result.error):find("host t:ceil died", 1, true), tostring(e.result.error))
  check.ok(tostring(e.result.error):find("outside the host's ceiling", 1, true), tostring(e.result.error))
  local r = channel.select({ args:case_receive(), default = true })
  check.eq(r.default, true, "the message never arrived")
  check.eq(process.exec("t:value_exit", "t:b", "ok"), "ok", "other hosts carry on")
  return true
end }
