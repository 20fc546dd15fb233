-- A registry decision's 'pid' attribute is the caller's PID, in the host
-- and in the broker's re-check alike, so security.can and the call agree:
-- a probe whose policy allows names rp_* for callers on t:a registers,
-- looks up (also for a send by name, in the broker) and unregisters them,
-- registers one for its child (process.registry.foreign on a PID of t:a,
-- with 'pid' and 'target_host'), and nothing else.
local check = require("check")

return { main = function()
  local reg = process.listen("reg")
  check.ok(process.with_context({}):with_scope({ "t:regpid" }):spawn("t:reg_probe", "t:a", process.pid()))
  local r = check.recv(reg, "3s", "probe report")
  check.eq(r.can_register, true, "security.can register")
  check.eq(r.can_unregister, true, "security.can unregister")
  check.eq(r.can_lookup, true, "security.can lookup")
  check.eq(r.register, "ok", "register: the broker agrees with the host")
  check.eq(r.lookup, "ok", "lookup: the broker agrees with the host")
  check.eq(r.send_by_name, "ok", "send by name: the broker may look the name up")
  check.eq(r.unregister, "ok", "unregister: the broker agrees with the host")
  check.eq(r.register_child, "ok", "register a child's PID (pid is the caller)")
  check.eq(r.unregister_child, "ok", "unregister it")
  check.eq(r.other_name, "PermissionDenied", "a name outside rp_*")
  check.eq(r.other_lookup, "PermissionDenied", "lookup of a name outside rp_*")
  return true
end }
