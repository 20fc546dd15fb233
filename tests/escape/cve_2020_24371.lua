-- CVE-2020-24371 (Lua 5.4.0): GC barriers active during the sweep phase
-- -> memory corruption (upstream a6da1472; fixed before 5.4.4). Attack:
-- stress the collector: heavy allocation of tables, closures, strings and
-- coroutines with weak tables and back-pointers written while collections
-- run (which the actor cannot trigger directly: collectgarbage is closed).
-- Expected: the stress completes with the right checksum; no crash; the
-- canary is unaffected.
local M = {}

function M.attack()
  local weak = setmetatable({}, { __mode = "kv" })
  local keep, sum = {}, 0
  for i = 1, 200000 do
    local t = { i }
    local f = function() return t[1] end
    weak[t] = f
    keep[i % 64 + 1] = { t = t, f = f, s = tostring(i) .. "x", back = keep }
    if i % 1000 == 0 then
      keep[i % 7 + 1] = coroutine.create(f)
    end
    sum = sum + f()
  end
  return sum
end

function M.main()
  local J = require("judge")
  J.begin()
  J.value(J.attack("esc:atk_cve_2020_24371", "esc:attacker", "10s"), 200000 * 200001 // 2, "checksum")
  return J.finish()
end

return M
