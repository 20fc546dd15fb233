-- Attack: leave the attacker tenant's box through spawn: start the
-- canary's entry, start the attacker's entry on the canary's or the
-- judge's host, spawn a library or an unknown entry, take another actor or
-- scope with the builder (impersonation), and rewrite the read-only views
-- of its own actor returned by require("security").
-- Expected: PermissionDenied for each (NotFound only for an unknown
-- atk_* entry, which the policy would allow); the security views stay
-- "attacker"; the canary is unaffected.
local M = {}

function M.attack(canary)
  local security = require("security")
  local out = {}
  local function rec(name, v, e) out[name] = v and "OK" or (e and e:kind() or "nil") end
  rec("canary_entry", process.spawn("esc:canary_main", "esc:attacker"))
  rec("canary_entry_there", process.spawn("esc:canary_main", "esc:canary"))
  rec("on_canary_host", process.spawn("esc:atk_idle", "esc:canary"))
  rec("on_judge_host", process.spawn("esc:atk_idle", "esc:judge"))
  rec("exec_canary", process.exec("esc:canary_main", "esc:canary"))
  rec("library", process.spawn("esc:judge_lib", "esc:attacker"))
  rec("unknown", process.spawn("esc:nope", "esc:attacker"))
  rec("unknown_atk", process.spawn("esc:atk_nope", "esc:attacker"))
  rec("as_canary", process.with_context({}):with_actor({ id = "canary", meta = { tenant = "canary" } }))
  rec("canary_scope", process.with_context({}):with_scope({ "esc:canary" }))
  rec("judge_scope", process.with_context({}):with_scope({ "esc:judge" }))
  -- Rewrite what security.actor() returned, then try again.
  local a = security.actor()
  pcall(function() a.id = "canary" end)
  pcall(function() a.meta.tenant = "canary" end)
  rec("after_rewrite", process.send(canary, "x"))
  out.actor = security.actor().id .. "/" .. security.actor().meta.tenant
  out.can_send = security.can("process.send", canary)
  out.can_own = security.can("process.send", process.pid())
  return out
end

function M.main()
  local J = require("judge")
  local canary = J.begin()
  local r = J.value(J.attack("esc:atk_cross_tenant_spawn", "esc:attacker", "5s", canary))
  local D = errors.PERMISSION_DENIED
  for _, k in ipairs({ "canary_entry", "canary_entry_there", "on_canary_host", "on_judge_host",
                       "exec_canary", "library", "unknown", "as_canary", "canary_scope",
                       "judge_scope", "after_rewrite" }) do
    J.eq(r[k], D, k)
  end
  J.eq(r.unknown_atk, errors.NOT_FOUND, "unknown atk_* entry")
  J.eq(r.actor, "attacker/attacker", "security.actor() after the rewrite")
  J.eq(r.can_send, false, "security.can send to the canary")
  J.eq(r.can_own, true, "security.can send to itself")
  return J.finish()
end

return M
