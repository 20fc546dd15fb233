-- CVE-2025-49844 (Redis, Pwn2Own Berlin 2025): luaY_parser did not anchor
-- the chunk-name TString, so a collection during parsing freed it (use
-- after free, remote code execution; redis d5728cb5). Attack: run the
-- parser under memory pressure and constant collection: many loads of a
-- large source with long, fresh chunk names while garbage piles up, then
-- keep every compiled function until the memory limit is hit.
-- Expected (host esc:lean, 8 MiB): phase "churn" completes and every
-- loaded chunk runs correctly; phase "fill" ends with LimitExceeded
-- "memory limit exceeded" (possibly inside the parser); no crash; the host
-- keeps serving; the canary is unaffected. esc:lean has no CPU budget: the
-- CPU both phases take grows with the machine's slowness (ASan, a busy
-- machine), and on esc:tight (cpu 300ms) the budget could end "fill"
-- before the memory limit.
local M = {}

local function source(i)
  local parts = { "local t = {} " }
  for j = 1, 200 do parts[#parts + 1] = ("t[%d] = 'v%d_%d' "):format(j, i, j) end
  parts[#parts + 1] = "return #t"
  return table.concat(parts)
end

function M.attack(phase)
  local keep = {}
  local sum = 0
  for i = 1, phase == "fill" and 1e9 or 300 do
    local name = "=" .. string.rep("n", 2000) .. i
    local junk = {}
    for j = 1, 50 do junk[j] = { tostring(i * j) } end
    local f = assert(load(source(i), name, "t"))
    sum = sum + f()
    if phase == "fill" then keep[#keep + 1] = f end
  end
  return sum
end

function M.main()
  local J = require("judge")
  J.begin()
  local witness = J.spawn("esc:atk_idle", "esc:lean")
  J.value(J.attack("esc:atk_cve_2025_49844", "esc:lean", "30s", "churn"), 300 * 200, "churn")
  J.error(J.attack("esc:atk_cve_2025_49844", "esc:lean", "30s", "fill"), errors.LIMIT_EXCEEDED,
    "memory limit exceeded", "fill")
  J.alive(witness, "witness on esc:lean")
  return J.finish()
end

return M
