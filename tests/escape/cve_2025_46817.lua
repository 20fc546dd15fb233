-- CVE-2025-46817 (Redis Lua): integer overflow in the unpack path
-- (lbaselib.c / ltable.c) with huge ranges. Attack: table.unpack with
-- ranges of 2^31, math.mininteger..math.maxinteger, 0..maxinteger,
-- 1..1e6 (more results than the stack takes), and a range of two at the
-- very top of the integers; string.rep and table.concat with sizes that
-- overflow.
-- Expected: "too many results to unpack" / "resulting string too large"
-- errors, exact results for the tiny range; no crash; the canary is
-- unaffected.
local M = {}

function M.attack()
  local out = {}
  local function e(name, f) local ok, err = pcall(f) out[name] = ok and "OK" or err end
  e("u31", function() return table.unpack({}, 1, 2^31) end)
  e("uminmax", function() return table.unpack({}, math.mininteger, math.maxinteger) end)
  e("u0max", function() return table.unpack({}, 0, math.maxinteger) end)
  e("u1e6", function() return table.unpack({}, 1, 1e6) end)
  out.top = select("#", table.unpack({}, math.maxinteger - 1, math.maxinteger))
  out.empty = select("#", table.unpack({}, math.maxinteger, math.mininteger))
  e("rep", function() return string.rep("xx", math.maxinteger) end)
  e("rep_sep", function() return string.rep("x", 2^31, ",") end)
  e("concat", function() return table.concat({}, ",", 1, math.maxinteger) end)
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_cve_2025_46817", "esc:attacker", "5s"))
  for _, k in ipairs({ "u31", "uminmax", "u0max", "u1e6" }) do
    J.has(r[k], "too many results to unpack", k)
  end
  J.eq(r.top, 2, "unpack of the top two integers")
  J.eq(r.empty, 0, "an empty range")
  J.has(r.rep, "resulting string too large", "string.rep")
  J.has(r.rep_sep, "resulting string too large", "string.rep with a separator")
  J.has(r.concat, "invalid value (nil) at index 1 in table for 'concat'", "table.concat")
  return J.finish()
end

return M
