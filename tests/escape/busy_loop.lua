-- Attack: burn CPU forever: a plain loop, a loop that swallows every error
-- with pcall (the count hook's error would be caught), a loop inside a
-- coroutine resumed under pcall, and a loop in a managed coroutine
-- (coroutine.spawn) while the main one waits.
-- Expected (host esc:tight, cpu: 300ms): each ends with LimitExceeded
-- "cpu budget exceeded" — pcall never sees it; the host keeps serving; the
-- canary is unaffected.
local M = {}

function M.attack(how)
  if how == "pcall" then
    while true do pcall(function() while true do end end) end
  elseif how == "coroutine" then
    while true do
      pcall(coroutine.wrap(function() while true do end end))
    end
  elseif how == "spawned" then
    coroutine.spawn(function() while true do end end)
    process.listen("never"):receive()
  else
    while true do end
  end
end

function M.main()
  local J = require("judge")
  J.begin()
  local witness = J.spawn("esc:atk_idle", "esc:tight")
  for _, how in ipairs({ "plain", "pcall", "coroutine", "spawned" }) do
    local r = J.attack("esc:atk_busy_loop", "esc:tight", "5s", how)
    J.error(r, errors.LIMIT_EXCEEDED, "cpu budget exceeded", how)
  end
  J.alive(witness, "witness on esc:tight")
  return J.finish()
end

return M
