-- Attack: overflow the C stack — recursion through C functions that call
-- back into Lua (string.gsub with a recursive callback, table.sort with a
-- recursive comparator, tostring through __tostring, __index / __call /
-- __concat / __eq metamethod chains) and a parser nested too deeply.
-- Expected: each is a catchable "C stack overflow" error (the __call chain
-- stays in the VM: "stack overflow"; the parser: "C stack overflow" too);
-- no crash;
-- the attacker returns normally; the canary is unaffected.
local M = {}

function M.attack()
  local out = {}
  local function g(s) return (s:gsub(".", g)) end
  out.gsub = select(2, pcall(g, "ab"))
  local function cmp(a, b) table.sort({ 3, 2, 1 }, cmp) return a < b end
  out.sort = select(2, pcall(table.sort, { 3, 2, 1 }, cmp))
  local ts = setmetatable({}, {})
  getmetatable(ts).__tostring = function(t) return tostring(t) end
  out.tostring = select(2, pcall(tostring, ts))
  local ix = setmetatable({}, {})
  getmetatable(ix).__index = function(t, k) return t[k] end
  out.index = select(2, pcall(function() return ix.x end))
  local call = setmetatable({}, {})
  getmetatable(call).__call = function(self) return (self()) end
  out.call = select(2, pcall(call))
  local cc = setmetatable({}, {})
  getmetatable(cc).__concat = function(a, b) return a .. b end
  out.concat = select(2, pcall(function() return cc .. "x" end))
  local eq = {}
  local a, b = setmetatable({}, eq), setmetatable({}, eq)
  eq.__eq = function(x, y) return x == y end
  out.eq = select(2, pcall(function() return a == b end))
  local f, err = load("return " .. string.rep("(", 100000) .. "1" .. string.rep(")", 100000))
  out.parser = f == nil and err
  f, err = load(string.rep("do ", 100000) .. string.rep("end ", 100000))
  out.parser_blocks = f == nil and err
  out.after = ("ok"):upper()
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_recursion_c", "esc:deep", "10s"))
  J.has(r.gsub, "C stack overflow", "gsub recursion")
  J.has(r.sort, "C stack overflow", "sort recursion")
  J.has(r.tostring, "C stack overflow", "__tostring recursion")
  J.has(r.index, "C stack overflow", "__index recursion")
  J.has(r.call, "stack overflow", "__call recursion (a Lua call: the Lua stack overflows)")
  J.has(r.concat, "C stack overflow", "__concat recursion")
  J.has(r.eq, "C stack overflow", "__eq recursion")
  J.has(r.parser, "overflow", "deeply nested expression")
  J.has(r.parser_blocks, "overflow", "deeply nested blocks")
  J.eq(r.after, "OK", "the actor carries on")
  return J.finish()
end

return M
