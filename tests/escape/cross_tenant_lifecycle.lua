-- Attack: act on the canary tenant's process: terminate it, cancel it
-- (with and without a deadline), link to it (so its death... or ours...
-- propagates), monitor it, unmonitor/unlink it, send to it — by PID and by
-- its registered name.
-- Expected: by PID, PermissionDenied for every call (unmonitor and unlink
-- too: they are checked like the others); by name (one the attacker may
-- not look up), the answer for a name nobody holds: NotFound, and true
-- for unmonitor and unlink (which succeed on a name that resolves to
-- nothing), so no call tells the attacker the name is held; the canary does
-- not exit, is not linked to the attacker (the attacker's own later death
-- leaves it alive) and is unaffected.
local M = {}

local OPS = { "terminate", "cancel", "cancel_deadline", "link", "monitor", "unmonitor",
  "unlink", "send" }

local function call(op, dest)
  if op == "cancel_deadline" then return process.cancel(dest, "1ms") end
  if op == "send" then return process.send(dest, "stop") end
  return process[op](dest)
end

function M.attack(canary, die)
  local out = {}
  for _, op in ipairs(OPS) do
    for _, dest in ipairs({ canary, "esc_canary" }) do
      local v, e = call(op, dest)
      out[op .. " " .. (dest == canary and "pid" or "name")] = v and "OK" or (e and e:kind() or "nil")
    end
  end
  -- Die with an error: were any link made, it would take the canary along.
  if die then error("attacker exits with an error") end
  return out
end

function M.main()
  local J = require("judge")
  local canary = J.begin()
  local v = J.value(J.attack("esc:atk_cross_tenant_lifecycle", "esc:attacker", "5s", canary))
  for _, op in ipairs(OPS) do
    for _, how in ipairs({ "pid", "name" }) do
      local want = errors.PERMISSION_DENIED
      if how == "name" then
        want = (op == "unmonitor" or op == "unlink") and "OK" or errors.NOT_FOUND
      end
      J.eq(v[op .. " " .. how], want, op .. " by " .. how)
    end
  end
  local r = J.attack("esc:atk_cross_tenant_lifecycle", "esc:attacker", "5s", canary, true)
  J.has(tostring(r.error), "attacker exits with an error", "the attack ran and failed")
  require("time").sleep("50ms")
  return J.finish()
end

return M
