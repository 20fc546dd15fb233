-- Attack: poison the string metatable shared by every chunk of a
-- lua_State (getmetatable("").__index.upper = ..., and replace __index
-- itself) and library tables, hoping to run code in other actors — the
-- attack of CVE-2022-24735 on Redis.
-- Expected: the tampering is visible in the attacker's own actor only; a
-- fresh actor on the same host (esc:atk_probe) sees the real library;
-- the canary is unaffected.
local M = {}

function M.attack()
  local mt = getmetatable("")
  mt.__index.upper = function() return "pwned" end
  string.lower = function() return "pwned" end
  string.rep = function() return "pwned" end
  string.format = function() return "pwned" end
  table.insert = function() end
  process.send = function() return "pwned" end
  _G.tostring = function() return "pwned" end
  local own = ("x"):upper()
  mt.__index = function() return function() return "pwned" end end
  local own2 = ("x"):len()
  -- A fresh actor on this very host (the same OS process and Lua library).
  local fresh = process.exec("esc:atk_probe", "esc:attacker")
  return { own = own, own2 = own2, fresh = fresh }
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_string_metatable", "esc:attacker"))
  J.eq(r.own, "pwned", "tampering works in the attacker's own actor")
  J.eq(r.own2, "pwned", "__index replaced in the attacker's own actor")
  local f = J.ok(r.fresh, "the probe ran")
  J.eq(f.upper, "X", "fresh actor: upper")
  J.eq(f.lower, "x", "fresh actor: lower")
  J.eq(f.rep, "abab", "fresh actor: rep")
  J.eq(f.format, "7", "fresh actor: format")
  J.eq(f.insert, "i", "fresh actor: table.insert")
  J.eq(f.tostring, "12", "fresh actor: tostring")
  J.eq(f.send, "function", "fresh actor: process.send")
  J.eq(f.mt_index, true, "fresh actor: the string metatable's __index is string")
  -- And in the judge's own host, of course.
  J.eq(("x"):upper(), "X", "judge: upper")
  return J.finish()
end

return M
