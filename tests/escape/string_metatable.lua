-- Attack: poison the string metatable shared by every chunk of a
-- lua_State (getmetatable("").__index.upper = ..., and replace __index
-- itself) and the library tables, hoping to change what other code relies
-- on or to run code in other actors (the attack of CVE-2022-24735 on
-- Redis).
-- Expected: every library table is read-only, so each attempt fails with
-- an error in the attacker itself (plain assignment, rawset, setmetatable,
-- table.insert, through the string metatable); a fresh actor on the same
-- host (esc:atk_probe) sees the real library; the canary is unaffected.
local M = {}

function M.attack()
  local mt = getmetatable("")
  local tries = {
    upper_via_mt = function() mt.__index.upper = function() return "pwned" end end,
    mt_index = function() mt.__index = function() return function() return "pwned" end end end,
    mt_add = function() mt.__add = function() return "pwned" end end,
    lower = function() string.lower = function() return "pwned" end end,
    rep = function() string.rep = function() return "pwned" end end,
    format = function() string.format = function() return "pwned" end end,
    insert = function() table.insert = function() end end,
    send = function() process.send = function() return "pwned" end end,
    registry = function() process.registry.lookup = function() return "pwned" end end,
    event = function() process.event.EXIT = "pwned" end,
    rawset = function() rawset(string, "upper", function() return "pwned" end) end,
    unprotect = function() setmetatable(string, nil) end,
    tinsert = function() table.insert(math, "pwned") end,
    time = function() require("time").now = function() return "pwned" end end,
    errors = function() errors.new = function() return "pwned" end end,
  }
  local refused = {}
  for name, f in pairs(tries) do
    local ok = pcall(f)
    refused[name] = not ok
  end
  -- Globals are the script's own: this one works, and only here.
  _G.tostring = function() return "pwned" end
  local own = { upper = ("x"):upper(), len = ("x"):len(), rep = string.rep("ab", 2) }
  local fresh = process.exec("esc:atk_probe", "esc:attacker")
  return { refused = refused, own = own, fresh = fresh }
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_string_metatable", "esc:attacker"))
  for _, name in ipairs({ "upper_via_mt", "mt_index", "mt_add", "lower", "rep", "format", "insert", "send",
                          "registry", "event", "rawset", "unprotect", "tinsert", "time", "errors" }) do
    J.eq(r.refused[name], true, "refused in the attacker: " .. name)
  end
  J.eq(r.own.upper, "X", "attacker's own upper intact")
  J.eq(r.own.len, 1, "attacker's own string metatable intact")
  J.eq(r.own.rep, "abab", "attacker's own rep intact")
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
