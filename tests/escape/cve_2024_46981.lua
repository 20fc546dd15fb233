-- CVE-2024-46981 (Redis/Valkey): the collector running at lua_close is
-- attacker code too (fix: a full collection before close, under the same
-- watchdog). With __gc refused, the code left to run at an actor's end is
-- __close handlers. Attack: an infinite loop in a __close handler that
-- runs (a) when the block exits normally, (b) when an error unwinds it,
-- (c) pending in the main function when the actor is terminated, (d)
-- pending in a suspended coroutine when the actor returns, (e) when the
-- actor is ended by its memory limit.
-- Expected (host esc:tight: cpu 300ms, memory 8MiB, turn deadline 500ms):
-- (a): LimitExceeded "cpu budget exceeded" (the hook runs in __close);
-- (b): the error "unwind" — an error leaving the actor does not run its
-- pending handlers; (c): "process terminated", the handler does not run;
-- (d): the actor's result, the handler does not run; (e): LimitExceeded "memory limit
-- exceeded"; the host is never killed (the witness lives); the canary is
-- unaffected.
local M = {}

local function looping() return setmetatable({}, { __close = function() while true do end end }) end

function M.attack(how)
  if how == "normal" then
    do local x <close> = looping() end
  elseif how == "error" then
    local x <close> = looping()
    error("unwind")
  elseif how == "terminated" then
    local x <close> = looping()
    process.listen("never"):receive()
  elseif how == "coroutine" then
    local co = coroutine.create(function() local x <close> = looping() coroutine.yield() end)
    coroutine.resume(co)
    _G.KEEP = co
    return "returned"
  elseif how == "memory" then
    local x <close> = looping()
    local t = {}
    for i = 1, 1e9 do t[i] = string.rep("m", 100) .. i end
  end
  return "no loop"
end

function M.main()
  local J = require("judge")
  J.begin()
  local witness = J.spawn("esc:atk_idle", "esc:tight")
  J.error(J.attack("esc:atk_cve_2024_46981", "esc:tight", "5s", "normal"), errors.LIMIT_EXCEEDED,
    "cpu budget exceeded", "(a) normal exit")
  local b = J.attack("esc:atk_cve_2024_46981", "esc:tight", "5s", "error")
  J.has(tostring(b.error), "unwind", "(b) error unwinding")
  local pid = J.spawn("esc:atk_cve_2024_46981", "esc:tight", "terminated")
  require("time").sleep("50ms")
  J.eq(process.terminate(pid), true, "terminate")
  local e = J.event(process.event.EXIT, pid, "3s", "(c) terminated")
  J.has(tostring(e.result.error), "process terminated", "(c) terminated")
  J.value(J.attack("esc:atk_cve_2024_46981", "esc:tight", "5s", "coroutine"), "returned", "(d)")
  J.error(J.attack("esc:atk_cve_2024_46981", "esc:tight", "5s", "memory"), errors.LIMIT_EXCEEDED,
    "memory limit exceeded", "(e) memory limit")
  J.alive(witness, "witness on esc:tight")
  return J.finish()
end

return M
