-- A host may only hold the actors and scopes of its ceiling: a spawn that
-- would put a child outside it is refused (by the broker for a spawn from
-- another host, by the host itself for a local one). A frame that claims
-- another actor or scope is fatal for its host (tests/link/test_link.sh).
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
  -- The intruder: a process on t:ceil that tries to start a local child
  -- outside the ceiling (another actor, then another scope): the host
  -- refuses both itself, and nothing from them ever runs.
  local w = check.ok(process.spawn_monitored("t:intruder", "t:ceil", process.pid()))
  for _, what in ipairs({ "actor 'intruder'", "scope name 't:limited'" }) do
    local r = check.recv(args, "3s", "intruder's report")
    check.eq(r[1], "PermissionDenied", what)
    check.ok(r[2]:find(what .. " is outside the host's ceiling", 1, true), r[2])
  end
  local e = check.event(ev, process.event.EXIT, w, "3s", "intruder done")
  check.eq(e.result.error, nil, "the intruder ended normally (its host lives)")
  local r = channel.select({ args:case_receive(), default = true })
  check.eq(r.default, true, "no child ran")
  check.eq(process.exec("t:value_exit", "t:ceil", "ok"), "ok", "t:ceil carries on")
  check.eq(process.exec("t:value_exit", "t:b", "ok"), "ok", "other hosts carry on")
  return true
end }
