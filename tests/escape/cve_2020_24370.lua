-- CVE-2020-24370 (Lua 5.4.0): negation overflow in getlocal/setlocal
-- (debug.getlocal(3, 2^31)) -> out-of-bounds access (upstream a585eae6;
-- fixed before 5.4.4). Attack: call debug.getlocal / debug.setlocal with
-- INT_MIN-style indexes by every route to the debug library.
-- Expected: the debug library does not exist; every call fails as a Lua
-- error; the canary is unaffected.
local M = {}

function M.attack()
  local out = {}
  for i, f in ipairs({
    function() return debug.getlocal(3, 2^31) end,
    function() return debug.setlocal(1, -2^31, 1) end,
    function() return require("debug").getlocal(1, math.mininteger) end,
    function() return load("return debug")().getlocal(1, -1) end,
  }) do
    out[i] = (pcall(f))
  end
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_cve_2020_24370", "esc:attacker", "5s"))
  for i = 1, 4 do J.eq(r[i], false, "route " .. i) end
  return J.finish()
end

return M
