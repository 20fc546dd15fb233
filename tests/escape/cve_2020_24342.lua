-- CVE-2020-24342 (Lua 5.4.0): luaD_callnoyield counted twice, letting
-- nested metamethod calls cross the C-stack red zone (upstream 34affe7a;
-- fixed before 5.4.4). Attack: nest metamethod calls (__index, __newindex,
-- __lt, __len, __unm, __add) right up to the C-stack limit, also inside
-- coroutines and pcall.
-- Expected: each is a catchable "C stack overflow" error; the actor
-- carries on; the canary is unaffected.
local M = {}

function M.attack()
  local out = {}
  local mt = {}
  local o = setmetatable({}, mt)
  mt.__index = function(t, k) return t[k] end
  mt.__newindex = function(t, k, v) t[k] = v end
  mt.__lt = function(a, b) return a < b end
  mt.__len = function(a) return #a end
  mt.__unm = function(a) return -a end
  mt.__add = function(a, b) return a + b end
  out.index = select(2, pcall(function() return o.x end))
  out.newindex = select(2, pcall(function() o.x = 1 end))
  out.lt = select(2, pcall(function() return o < o end))
  out.len = select(2, pcall(function() return #o end))
  out.unm = select(2, pcall(function() return -o end))
  out.add = select(2, pcall(function() return o + 1 end))
  out.in_coroutine = select(2, coroutine.resume(coroutine.create(function() return o.x end)))
  out.after = #"carries on"
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_cve_2020_24342", "esc:attacker", "5s"))
  for _, k in ipairs({ "index", "newindex", "lt", "len", "unm", "add", "in_coroutine" }) do
    J.has(r[k], "C stack overflow", k)
  end
  J.eq(r.after, 10, "the actor carries on")
  return J.finish()
end

return M
