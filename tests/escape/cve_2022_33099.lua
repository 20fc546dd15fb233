-- CVE-2022-33099 (Lua 5.4.0-5.4.4): an error while handling an error at the
-- C-stack limit (luaG_runerror) -> heap overflow / double free (upstream
-- 42d40581 "Save stack space while handling errors"; patched in Debian
-- 5.4.4-3). Attack: the upstream reproducer (a recursive message handler
-- that itself overflows) and an error handler that builds a huge message.
-- Expected: xpcall returns false with "error in error handling"; no
-- crash; the canary is unaffected.
local M = {}

function M.attack()
  local out = {}
  local function loop() assert(pcall(loop)) end
  local ok, msg = xpcall(loop, loop)
  out.ok, out.msg = ok, msg
  ok, msg = xpcall(function() error("x") end, function(m) return m .. string.rep("y", 1 << 20) end)
  out.big = not ok and #msg
  local function f(x)
    if x == 0 then error("a\n") end
    local aux = function() return f(x - 1) end
    return xpcall(aux, aux)
  end
  out.nested = select(4, f(3))
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_cve_2022_33099", "esc:attacker", "5s"))
  J.eq(r.ok, false, "xpcall(loop, loop)")
  J.eq(r.msg, "error in error handling", "message")
  J.ok(r.big and r.big > 1 << 20, "a handler building a 1 MiB message")
  J.eq(r.nested, "error in error handling", "nested handlers")
  return J.finish()
end

return M
