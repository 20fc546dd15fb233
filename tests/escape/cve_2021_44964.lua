-- CVE-2021-44964 (Lua 5.4.0-5.4.3): use after free in the collector when
-- a finalizer calls collectgarbage ("allows ... sandbox escape via a
-- crafted script"; upstream testes/gc.lua: collectgarbage() inside __gc
-- must return false). Attack: that script, and the routes around the
-- refusal: a __gc set after setmetatable, and __gc on a metatable
-- protected by __metatable.
-- Expected: setmetatable refuses __gc ("__gc metamethods are not
-- allowed"); a __gc added later never runs (the object is not marked) and
-- collectgarbage() with no option only answers the count; no crash; the
-- canary is unaffected.
local M = {}

function M.attack()
  local out = {}
  local res = "not run"
  out.direct = select(2, pcall(setmetatable, {}, { __gc = function() res = collectgarbage() end }))
  out.protected = select(2, pcall(setmetatable, {}, { __metatable = false, __gc = print }))
  local mt = {}
  do
    local o = setmetatable({}, mt)
    mt.__gc = function() res = collectgarbage() end
    o = nil
  end
  -- Churn so a collection surely runs.
  for i = 1, 100000 do local _ = { i } end
  out.res = res
  out.count = math.type(collectgarbage())
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_cve_2021_44964", "esc:attacker", "5s"))
  J.eq(r.direct, "setmetatable: __gc metamethods are not allowed", "__gc in setmetatable")
  J.eq(r.protected, "setmetatable: __gc metamethods are not allowed", "__gc with __metatable")
  J.eq(r.res, "not run", "a __gc added after setmetatable never runs")
  J.eq(r.count, "float", "collectgarbage() answers the count")
  return J.finish()
end

return M
