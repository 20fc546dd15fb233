-- Every process.* call is checked against the caller's actor and scope
-- before it has any effect; a denial is nil, err (PermissionDenied) naming
-- action and resource, and changes nothing. This test runs in the narrow
-- group t:limited (see _index.yaml).
local check = require("check")
local security = require("security")
local time = require("time")

local function denied(what, v, err)
  check.fails(errors.PERMISSION_DENIED, v, err, what)
  return err
end

return { main = function()
  check.eq(security.actor().meta.tenant, "t", "actor meta from the manifest")
  -- spawn: entry allowed, host allowed.
  local pid = check.ok(process.spawn("t:blocker", "t:a"))
  -- process.host denied for t:b; nothing was started there.
  local err = denied("spawn on t:b", process.spawn("t:blocker", "t:b"))
  check.ok(tostring(err):find("process.host", 1, true) and tostring(err):find("t:b", 1, true), tostring(err))
  -- process.spawn denied for another entry.
  err = denied("spawn t:echo", process.spawn("t:echo", "t:a"))
  check.ok(tostring(err):find("process.spawn on t:echo", 1, true), tostring(err))
  -- spawn_linked needs process.spawn.linked.
  denied("spawn_linked", process.spawn_linked("t:blocker", "t:a"))
  -- exec allowed for t:value_exit, and on t:a only.
  check.eq(process.exec("t:value_exit", "t:a", 5), 5)
  denied("exec on t:b", process.exec("t:value_exit", "t:b", 5))
  -- send: PIDs of t:a allowed (condition on actor.meta.tenant holds).
  check.eq(process.send(pid, "x", 1), true)
  -- A name resolving to another host's process (a name it may look up):
  -- the broker checks the resolved PID and refuses.
  local svc
  for _ = 1, 200 do
    svc = process.registry.lookup("svc_echo")
    if svc then break end
    time.sleep("10ms")
  end
  check.ok(svc and svc:find("t:b", 1, true), "svc_echo lives on t:b")
  err = denied("send by name to t:b", process.send("svc_echo", "ping"))
  check.ok(tostring(err):find(svc, 1, true), "names the resolved PID: " .. tostring(err))
  denied("send to a t:b PID", process.send(svc, "ping"))
  -- terminate: an explicit deny; the process lives on (no side effect).
  err = denied("terminate", process.terminate(pid))
  check.ok(tostring(err):find("forbidden", 1, true) or tostring(err):find("no_terminate", 1, true), tostring(err))
  time.sleep("20ms")
  check.eq(process.send(pid, "still", "here"), true, "not terminated")
  -- link is not granted at all.
  denied("link", process.link(pid))
  -- monitor allowed on t:a.
  check.eq(process.monitor(pid), true)
  -- Registry: names under lim_ only.
  check.eq(process.registry.register("lim_" .. process.pid()), true)
  denied("register", process.registry.register("other_name"))
  -- lookup: a name it may look up and nobody holds is NotFound; a name it
  -- may not look up is PermissionDenied, held or not.
  check.fails(errors.NOT_FOUND, process.registry.lookup("lim_none_" .. process.pid()))
  err = denied("lookup", process.registry.lookup("other_name"))
  check.ok(tostring(err):find("process.registry.lookup on other_name", 1, true), tostring(err))
  -- Builder: process.context and process.security are not granted.
  denied("with_context", process.with_context({ a = 1 }))
  -- security.can agrees with the decisions.
  check.eq(security.can("process.spawn", "t:blocker"), true)
  check.eq(security.can("process.spawn", "t:echo"), false)
  check.eq(security.can("process.terminate", pid), false)
  check.eq(security.can("process.send", "{t:b|0x00001}"), false)
  -- Children inherit the narrow scope: a child cannot do more.
  local ch = process.listen("args")
  check.ok(process.spawn("t:reply_args", "t:a", process.pid(), "inherit"))
  check.eq(check.recv(ch)[1], "inherit")
  return true
end }
