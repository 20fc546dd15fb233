-- CVE-2020-15889 (Lua 5.4.0): heap over-read in the generational collector
-- with old finalized objects (upstream 127e7a6c; fixed before 5.4.4).
-- Attack: reach the generational mode and finalizers — both are closed in
-- ward — and churn objects between young and old generations anyway.
-- Expected: collectgarbage("generational") and __gc are refused with
-- errors; the churn completes; no crash; the canary is unaffected.
local M = {}

function M.attack()
  local out = {}
  out.gen = select(2, pcall(collectgarbage, "generational"))
  out.gc = select(2, pcall(setmetatable, {}, { __gc = function() end }))
  local old = {}
  for i = 1, 20000 do
    old[i % 100 + 1] = { i, { i }, tostring(i) }
    local young = setmetatable({}, { __mode = "v" })
    young[1] = old[i % 100 + 1]
  end
  out.churn = #old
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_cve_2020_15889", "esc:attacker", "5s"))
  J.eq(r.gen, 'collectgarbage: only "count" is allowed', "generational mode")
  J.eq(r.gc, "setmetatable: __gc metamethods are not allowed", "__gc")
  J.eq(r.churn, 100, "churn completed")
  return J.finish()
end

return M
