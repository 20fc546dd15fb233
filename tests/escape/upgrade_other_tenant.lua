-- Attack: run another tenant's code through process.upgrade. exec and
-- spawn of the canary's private entry are denied, so try to become it:
-- upgrade this very process into esc:canary_secret (on a host that may
-- hold its source, and on one that may not), and into an unknown entry.
-- Expected: upgrade is decided as process.upgrade on the new entry id:
-- PermissionDenied for the canary's entry, NotFound only for an unknown
-- atk_* entry (which the policy would allow); upgrade(nil) and an upgrade
-- into the attacker's own entry work (process.upgrade on esc:atk_*).
local M = {}

function M.attack(stage)
  if stage == "again" then return "upgraded into own entry" end
  local out = {}
  local function rec(name, v, e) out[name] = v and "OK" or (e and e:kind() or "nil") end
  rec("exec_secret", process.exec("esc:canary_secret", "esc:attacker"))
  rec("spawn_secret", process.spawn("esc:canary_secret", "esc:attacker"))
  rec("upgrade_secret", process.upgrade("esc:canary_secret"))
  rec("upgrade_unknown_atk", process.upgrade("esc:atk_nope"))
  rec("upgrade_unknown", process.upgrade("esc:nope"))
  rec("upgrade_judge_lib", process.upgrade("esc:judge_lib"))
  if stage == "own" then
    -- Allowed: the process continues as esc:atk_upgrade_own.
    return process.upgrade("esc:atk_upgrade_own", "again")
  end
  return out
end

function M.main()
  local J = require("judge")
  local canary = J.begin()
  local D, NF = errors.PERMISSION_DENIED, errors.NOT_FOUND
  for _, host in ipairs({ "esc:attacker", "esc:tight" }) do
    local r = J.value(J.attack("esc:atk_upgrade_other_tenant", host, "5s", "x"))
    J.ok(type(r) == "table", "the attack ran its own code to the end on " .. host)
    J.eq(r.exec_secret, D, "exec of the canary's entry")
    J.eq(r.spawn_secret, D, "spawn of the canary's entry")
    J.eq(r.upgrade_secret, D, "upgrade into the canary's entry on " .. host)
    J.eq(r.upgrade_unknown_atk, NF, "upgrade into an unknown atk_* entry")
    J.eq(r.upgrade_unknown, D, "upgrade into an unknown entry of another namespace part")
    J.eq(r.upgrade_judge_lib, D, "upgrade into the judge's library")
  end
  J.value(J.attack("esc:atk_upgrade_other_tenant", "esc:attacker", "5s", "own"),
    "upgraded into own entry", "upgrade into the attacker's own entry")
  return J.finish()
end

return M
