-- Attack: drive the collector — stop it to grow without bound, force full
-- collections in a loop to burn the host's time with no hook running,
-- switch to generational mode (CVE-2020-15889 path), tune pause/stepmul.
-- Expected: every option but "count" raises 'collectgarbage: only "count"
-- is allowed'; collectgarbage() with no option answers the count (it does
-- not collect); the attacker returns normally; the canary is unaffected.
local M = {}

local OPTS = { "collect", "stop", "restart", "step", "generational", "incremental",
  "isrunning", "setpause", "setstepmul" }

function M.attack()
  local out = {}
  for i, o in ipairs(OPTS) do
    local ok, err = pcall(collectgarbage, o, 0)
    out[i] = ok and "ALLOWED" or err
  end
  out.count = math.type(collectgarbage("count"))
  out.none = math.type(collectgarbage())
  local ok = pcall(collectgarbage, 1)
  out.number = ok
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_collectgarbage_abuse", "esc:attacker"))
  for i, o in ipairs(OPTS) do
    J.eq(r[i], 'collectgarbage: only "count" is allowed', "collectgarbage('" .. o .. "')")
  end
  J.eq(r.count, "float", "collectgarbage('count')")
  J.eq(r.none, "float", "collectgarbage() answers the count")
  J.eq(r.number, false, "collectgarbage(1)")
  return J.finish()
end

return M
