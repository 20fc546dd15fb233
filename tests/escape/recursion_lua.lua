-- Attack: overflow the Lua stack with unbounded recursion (plain, through
-- nested pcall, and inside a coroutine), hoping to crash the interpreter,
-- again and again on the same host (six rounds of the three).
-- Expected (host esc:deep, 64 MiB per actor, default turn deadline 2 s): a
-- catchable "stack overflow" error every time (LUAI_MAXSTACK) — "C stack
-- overflow" for the pcall chain, where every level is a C call; the actor
-- carries on and returns normally; the host is never killed (a witness
-- lives); the canary is unaffected.
-- KNOWN FAILURE (found by this test): after a few rounds the host is
-- killed as unresponsive ("its loop did not come back within 2000 ms").
-- The preemption tick (runtime/lua/lenv.c on_tick, SIGVTALRM every 10 ms
-- of CPU) calls lua_sethook, which walks every CallInfo of the running
-- thread (settraps in ldebug.c); with ~200000 frames whose CallInfos come
-- from the host's recycled, scattered slab blocks, one walk takes longer
-- than the tick, so the handler runs back to back and the actor makes no
-- progress (perf: 70% of the host's time in lua_sethook).
local M = {}

function M.attack(how)
  local function deep(n) return 1 + deep(n + 1) end
  local function pdeep(n) local _, e = pcall(pdeep, n + 1) return e end
  local ok, err
  if how == "plain" then
    ok, err = pcall(deep, 1)
  elseif how == "pcall" then
    ok, err = true, pdeep(1)
  else
    ok, err = coroutine.resume(coroutine.create(function() return deep(1) end))
  end
  return { ok = ok, err = err, after = ("carries on"):upper() }
end

function M.main()
  local J = require("judge")
  J.begin()
  local witness = J.spawn("esc:atk_idle", "esc:deep")
  local breaches = {}
  for round = 1, 6 do
    for _, how in ipairs({ "plain", "pcall", "coroutine" }) do
      local want = how == "pcall" and "C stack overflow" or "stack overflow"
      local res = J.attack("esc:atk_recursion_lua", "esc:deep", "10s", how)
      local r = res.value
      if res.error ~= nil then
        breaches[#breaches + 1] = ("round %d %s: %s (after %d ms)"):format(round, how,
          tostring(res.error), res.ms)
        break
      end
      J.eq(r.ok, how == "pcall", how .. ": pcall/resume status")
      J.has(r.err, want, how)
      J.eq(r.after, "CARRIES ON", how .. ": the actor carries on")
    end
    if #breaches > 0 then break end
  end
  if #breaches == 0 then J.alive(witness, "witness on esc:deep") end
  J.finish()
  J.eq(table.concat(breaches, "; "), "", "deep recursion")
  return true
end

return M
