-- Attack: take over the canary tenant's names — register "esc_canary"
-- (outside the attacker's atk_* names), register a name for the canary's
-- PID, take "atk_trap" (inside the attacker's pattern but held by the
-- canary), unregister the canary's names, and look them up.
-- Expected: PermissionDenied where the policy forbids the name or the PID
-- is not the attacker's; AlreadyExists for the held atk_trap; unregister of
-- atk_trap is PermissionDenied (the name is another host's process's);
-- lookup of esc_canary is PermissionDenied (process.registry.lookup on a
-- name outside atk_*); the canary keeps both names and is unaffected.
local M = {}

function M.attack(canary)
  local out = {}
  local function rec(name, v, e)
    out[name] = (v ~= nil and v ~= false) and ("OK " .. tostring(v))
      or (e and (e:kind() .. ": " .. tostring(e)) or tostring(v))
  end
  rec("register", process.registry.register("esc_canary"))
  rec("register_pid", process.registry.register("atk_mine", canary))
  rec("register_other_pid", process.registry.register("esc_canary", canary))
  rec("trap", process.registry.register("atk_trap"))
  rec("unregister", process.registry.unregister("esc_canary"))
  rec("unregister_trap", process.registry.unregister("atk_trap"))
  rec("lookup", process.registry.lookup("esc_canary"))
  rec("own", process.registry.register("atk_mine"))
  out.trap_holder = process.registry.lookup("atk_trap")
  return out
end

function M.main()
  local J = require("judge")
  local canary = J.begin()
  local r = J.value(J.attack("esc:atk_name_squatting", "esc:attacker", "5s", canary))
  J.has(r.register, errors.PERMISSION_DENIED .. ": ", "register esc_canary")
  J.has(r.register_pid, errors.PERMISSION_DENIED .. ": ", "register a name for the canary's PID")
  J.has(r.register_other_pid, errors.PERMISSION_DENIED .. ": ", "register esc_canary for the canary's PID")
  J.has(r.trap, errors.ALREADY_EXISTS .. ": ", "register atk_trap (held by the canary)")
  J.has(r.unregister, errors.PERMISSION_DENIED .. ": ", "unregister esc_canary")
  J.has(r.unregister_trap, errors.PERMISSION_DENIED .. ": name belongs to a process of another host",
    "unregister atk_trap (not the attacker's)")
  -- lookup needs process.registry.lookup on the name (ward's addition to
  -- the seeds' table): names are not a public directory.
  J.has(r.lookup, errors.PERMISSION_DENIED .. ": permission denied: process.registry.lookup on esc_canary",
    "lookup esc_canary")
  J.eq(r.own, "OK true", "the attacker's own name")
  J.eq(r.trap_holder, canary, "atk_trap still the canary's")
  J.eq(process.registry.lookup("atk_trap"), canary, "atk_trap still the canary's")
  return J.finish()
end

return M
