-- A registry decision's 'pid' attribute is the caller's PID, in the host
-- and in the broker's re-check alike, so security.can and the call agree:
-- a probe whose policy allows names rp_* for callers on t:a registers and
-- unregisters them (for itself and for its child), and nothing else.
local check = require("check")

return { main = function()
  local reg = process.listen("reg")
  check.ok(process.with_context({}):with_scope({ "t:regpid" }):spawn("t:reg_probe", "t:a", process.pid()))
  local r = check.recv(reg, "3s", "probe report")
  check.eq(r.can_register, true, "security.can register")
  check.eq(r.can_unregister, true, "security.can unregister")
  check.eq(r.register, "ok", "register: the broker agrees with the host")
  check.eq(r.unregister, "ok", "unregister: the broker agrees with the host")
  check.eq(r.register_child, "ok", "register a child's PID (pid is the caller)")
  check.eq(r.unregister_child, "ok", "unregister it")
  check.eq(r.other_name, "PermissionDenied", "a name outside rp_*")
  return true
end }
