-- CVE-2020-15888 (Lua 5.4.0): stack reallocation interacting with the
-- garbage collector -> heap overflow / use after free (upstream eb419994
-- "Fixed bugs of stack reallocation x GC"; fixed before 5.4.4, kept as a
-- regression test). Attack: deep recursion that allocates on every level,
-- under a small allocator cap, so the stack grows and moves while the
-- collector runs and allocations fail.
-- Expected: on esc:tight (8 MiB) the actor ends with LimitExceeded
-- "memory limit exceeded"; on esc:deep (64 MiB), with lighter
-- allocation per level, a catchable "stack overflow"; no crash; the canary
-- is unaffected.
local M = {}

function M.attack(mode)
  local function deep(n, acc)
    local t = { n, tostring(n), acc }
    return 1 + deep(n + 1, #t[2] > 3 and {} or t)
  end
  local function light(n)
    local s = "level" .. (n % 100)
    return #s + light(n + 1)
  end
  local ok, err = pcall(mode == "light" and light or deep, 1)
  return { ok = ok, err = err }
end

function M.main()
  local J = require("judge")
  J.begin()
  local witness = J.spawn("esc:atk_idle", "esc:tight")
  J.error(J.attack("esc:atk_cve_2020_15888", "esc:tight", "5s"), errors.LIMIT_EXCEEDED,
    "memory limit exceeded", "tight")
  J.alive(witness, "witness on esc:tight")
  local r = J.value(J.attack("esc:atk_cve_2020_15888", "esc:deep", "10s", "light"))
  J.eq(r.ok, false, "recursion fails")
  J.has(r.err, "stack overflow", "esc:attacker")
  return J.finish()
end

return M
