-- Attack: exhaust memory by growing tables (array part, hash part, and
-- strings kept alive), each step inside pcall, so that a memory error is
-- swallowed and growth continues.
-- Expected (host esc:tight, memory: 8MiB): LimitExceeded "memory limit
-- exceeded", not catchable; the host keeps serving; the canary is
-- unaffected.
local M = {}

function M.attack()
  local keep = {}
  local i = 0
  while true do
    pcall(function()
      for _ = 1, 1000 do
        i = i + 1
        keep[i] = { i, tostring(i) .. "...................." }
        keep["k" .. i] = i
      end
    end)
  end
end

function M.main()
  local J = require("judge")
  J.begin()
  local witness = J.spawn("esc:atk_idle", "esc:tight")
  local r = J.attack("esc:atk_memory_table_growth", "esc:tight")
  J.error(r, errors.LIMIT_EXCEEDED, "memory limit exceeded")
  J.alive(witness, "witness on esc:tight")
  J.value(J.attack("esc:atk_probe", "esc:tight"))
  return J.finish()
end

return M
