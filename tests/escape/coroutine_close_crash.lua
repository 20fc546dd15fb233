-- Attack: crash the interpreter from pure Lua. Debian's Lua 5.4.4 overflows
-- the C stack closing a chain of 20000 coroutines whose __close handlers
-- close the previous one (upstream 1e64c139, fixed in 5.4.5 only; see
-- tests/lua/workers/crasher.lua). We assume such a crash is possible: it
-- must take down only the attacker's own host.
-- Expected (host esc:crashme, restart: true): the host dies of signal 11;
-- the judge's monitor gets EXIT naming "host esc:crashme died" and
-- "signal 11" ("exited with status 1" under AddressSanitizer); a witness on that host dies too; the host restarts with
-- fresh PIDs; the canary is unaffected. (With Lua 5.4.5 or later the
-- attack returns "survived" instead: update this test then.)
local M = {}

function M.attack(n)
  local coro = false
  for _ = 1, n do
    local previous = coro
    coro = coroutine.create(function()
      local cc <close> = setmetatable({}, { __close = function()
        if previous then coroutine.close(previous) end
      end })
      coroutine.yield()
    end)
    coroutine.resume(coro)
  end
  coroutine.close(coro)
  return "survived"
end

function M.main()
  local J = require("judge")
  J.begin()
  local witness = J.spawn("esc:atk_idle", "esc:crashme")
  local r = J.attack("esc:atk_coroutine_close_crash", "esc:crashme", "10s", 20000)
  J.has(tostring(r.error), "host esc:crashme died", "EXIT names the dead host")
  -- A segfault (signal 11); under AddressSanitizer the crash is caught and
  -- the host exits with status 1 instead.
  local why = tostring(r.error)
  J.ok(why:find("signal 11", 1, true) or why:find("exited with status 1", 1, true),
    "EXIT names the signal: " .. why)
  local w = J.event(process.event.EXIT, witness, "2s", "witness")
  J.has(tostring(w.result.error), "host esc:crashme died", "the witness died with its host")
  local again = J.attack("esc:atk_probe", "esc:crashme")
  J.value(again, nil, "host restarted")
  local function counter(p) return tonumber(p:match("|0x(%x+)}"), 16) end
  J.ok(counter(again.pid) > counter(witness), "fresh PIDs after the restart")
  return J.finish()
end

return M
