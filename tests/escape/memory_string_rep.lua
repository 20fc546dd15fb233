-- Attack: exhaust the host's memory with one huge string (string.rep of
-- 1 GiB, then 2^40), wrapped in pcall so the memory error is caught and
-- the attack tried again and again.
-- Expected (host esc:tight, memory: 8MiB per actor): the attacker ends with
-- LimitExceeded "memory limit exceeded" that pcall could not catch; the
-- host keeps serving (a witness spawned before is alive, a new spawn
-- works); the canary is unaffected.
local M = {}

function M.attack()
  local caught = 0
  for _ = 1, 100 do
    local ok = pcall(string.rep, "x", 1 << 30)
    if not ok then caught = caught + 1 end
    pcall(string.rep, "x", 1 << 40)
  end
  return "survived, caught " .. caught
end

function M.main()
  local J = require("judge")
  J.begin()
  local witness = J.spawn("esc:atk_idle", "esc:tight")
  local r = J.attack("esc:atk_memory_string_rep", "esc:tight")
  J.error(r, errors.LIMIT_EXCEEDED, "memory limit exceeded")
  J.alive(witness, "witness on esc:tight")
  J.value(J.attack("esc:atk_probe", "esc:tight"))
  return J.finish()
end

return M
