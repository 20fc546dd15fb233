-- CVE-2020-15945 (Lua 5.4.0): segmentation fault in changedline with a
-- stale 'oldpc' when a line hook sees a return across functions (upstream
-- a2195644; fixed before 5.4.4). Attack: install a line hook (needs the
-- debug library) and run returns across functions.
-- Expected: no debug library by any name, so no hook can be set; the
-- returns run normally; the canary is unaffected.
local M = {}

function M.attack()
  local out = {}
  out.debug = type(rawget(_G, "debug"))
  out.require = (pcall(require, "debug"))
  out.sethook = (pcall(function() return debug.sethook(function() end, "l") end))
  local function a(n) if n == 0 then return 0 end return (function() return a(n - 1) + 1 end)() end
  out.returns = a(100)
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_cve_2020_15945", "esc:attacker", "5s"))
  J.eq(r.debug, "nil", "debug")
  J.eq(r.require, false, "require('debug')")
  J.eq(r.sethook, false, "debug.sethook")
  J.eq(r.returns, 100, "returns across functions")
  return J.finish()
end

return M
