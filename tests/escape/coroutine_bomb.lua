-- Attack: create coroutines without end — plain coroutine.create kept in a
-- table, each suspended mid-call with its own stack, and managed
-- coroutines (coroutine.spawn) blocked on a channel.
-- Expected (host esc:tight, memory: 8MiB): LimitExceeded "memory limit
-- exceeded"; the host keeps serving; the canary is unaffected.
local M = {}

function M.attack(how)
  local keep = {}
  if how == "spawn" then
    local ch = channel.new()
    for i = 1, 1e7 do
      keep[i] = coroutine.spawn(function() ch:receive() end)
    end
  else
    for i = 1, 1e7 do
      local co = coroutine.create(function(...) coroutine.yield(...) end)
      coroutine.resume(co, i, i, i)
      keep[i] = co
    end
  end
  return #keep
end

function M.main()
  local J = require("judge")
  J.begin()
  local witness = J.spawn("esc:atk_idle", "esc:tight")
  for _, how in ipairs({ "create", "spawn" }) do
    local r = J.attack("esc:atk_coroutine_bomb", "esc:tight", "5s", how)
    J.error(r, errors.LIMIT_EXCEEDED, "memory limit exceeded", how)
  end
  J.alive(witness, "witness on esc:tight")
  return J.finish()
end

return M
