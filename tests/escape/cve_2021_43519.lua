-- CVE-2021-43519 (Lua 5.1.0-5.4.3): lua_resume did not count C calls in
-- 'precover', so coroutines resumed after recoverable errors overflowed
-- the C stack (upstream 74d99057; fixed in 5.4.4). Upstream regression
-- (testes/cstack.lua "nesting coroutines running after recoverable
-- errors") ported as is.
-- Expected: a catchable "C stack overflow" error after about 200 levels,
-- not a crash; the canary is unaffected.
local M = {}

function M.attack()
  local count = 0
  local function foo()
    count = count + 1
    pcall(1) -- create an error
    -- running now inside 'precover' ("protected recover")
    coroutine.wrap(foo)() -- call another coroutine
  end
  local ok, err = pcall(foo)
  return { ok = ok, err = err, count = count }
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_cve_2021_43519", "esc:attacker", "5s"))
  J.eq(r.ok, false, "foo fails")
  J.has(r.err, "C stack overflow", "the error")
  J.ok(r.count > 10 and r.count <= 200, "levels before the overflow: " .. tostring(r.count))
  return J.finish()
end

return M
