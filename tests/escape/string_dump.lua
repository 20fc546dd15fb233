-- Attack: turn a function into bytecode with string.dump (the first half
-- of every bytecode exploit), reaching it by every path: the string table,
-- the string metatable, rawget, and a method call on a string.
-- Expected: string.dump does not exist anywhere; the attacker returns
-- normally; the canary is unaffected.
local M = {}

function M.attack()
  return {
    field = string.dump == nil,
    raw = rawget(string, "dump") == nil,
    via_mt = getmetatable("").__index.dump == nil,
    method = select(2, pcall(function() return ("x"):dump() end)),
    global = _G.string.dump == nil,
  }
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_string_dump", "esc:attacker"))
  J.eq(r.field, true, "string.dump is nil")
  J.eq(r.raw, true, "rawget(string, 'dump') is nil")
  J.eq(r.via_mt, true, "getmetatable('').__index.dump is nil")
  J.eq(r.global, true, "_G.string.dump is nil")
  J.has(r.method, "attempt to call a nil value (method 'dump')", "('x'):dump()")
  return J.finish()
end

return M
