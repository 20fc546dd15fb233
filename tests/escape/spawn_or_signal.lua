-- Attack: use the spawn-or-signal builder (process.with_context({})
-- :with_name(N):with_message(topic, ...):spawn(entry, host)) on names the
-- attacker may not use: when N is held, the broker delivers the queued
-- messages to the holder — here the canary — and returns its PID; when N
-- is free, the child is registered under it. The attacker spawns only its
-- own entry on its own host, which it may.
-- Expected: the same rights as process.send and process.registry.register:
-- PermissionDenied for "esc_canary" (held by the canary; the attacker may
-- not send to it) and for "esc_free_name" (not an atk_* name); nothing
-- reaches the canary (its poke counter does not move); the canary is
-- unaffected.
-- KNOWN FAILURE (found by this test): the broker checks only
-- process.spawn and process.host (sandbox/broker.c req_spawn and
-- signal_holder): the attacker gets the canary's PID, its message is
-- delivered to the canary (anonymously), and "esc_free_name" is registered
-- for the attacker's child.
local M = {}

function M.attack(how)
  if how == "child" then process.listen("never"):receive() return end
  local out = {}
  local b = process.with_context({})
  local p, e = b:with_name("esc_canary"):with_message("poke", "from the attacker")
    :spawn("esc:atk_spawn_or_signal", "esc:attacker", "child")
  out.held = p and ("PID " .. p) or (e:kind() .. ": " .. tostring(e))
  p, e = b:with_name("esc_free_name"):spawn("esc:atk_spawn_or_signal", "esc:attacker", "child")
  out.free = p and ("PID " .. p) or (e:kind() .. ": " .. tostring(e))
  if p then process.terminate(p) end
  p, e = b:with_name("atk_own"):spawn("esc:atk_spawn_or_signal", "esc:attacker", "child")
  out.own = p ~= nil
  if p then process.terminate(p) end
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_spawn_or_signal", "esc:attacker", "5s"))
  J.eq(r.own, true, "spawn-or-signal under the attacker's own name")
  -- Every breach is listed before the test fails.
  local breaches = {}
  if not r.held:find(errors.PERMISSION_DENIED .. ": ", 1, true) then
    breaches[#breaches + 1] = "with_name('esc_canary') gave " .. r.held
  end
  if not r.free:find(errors.PERMISSION_DENIED .. ": ", 1, true) then
    breaches[#breaches + 1] = "with_name('esc_free_name') gave " .. r.free
  end
  local pokes = J.ping("canary").pokes
  local ok, err = pcall(J.finish)
  if not ok then breaches[#breaches + 1] = tostring(err) .. " (pokes: " .. tostring(pokes) .. ")" end
  J.eq(table.concat(breaches, "; "), "", "spawn-or-signal breaches")
  return true
end

return M
