-- The canary tenant's service (esc:canary on host esc:canary): registers
-- "esc_canary" and "atk_trap" (a name inside the attacker's own name
-- pattern, to test the registry beyond the policy), answers the judge's
-- pings with its PID and counters, and counts every other message it gets
-- as a poke: nothing the attacker does may reach it.
return { main = function()
  assert(process.registry.register("esc_canary"))
  assert(process.registry.register("atk_trap"))
  local inbox = process.inbox()
  local pings, pokes = 0, 0
  while true do
    local m = inbox:receive()
    local from = m:from()
    if m:topic() == "ping" and from and from:find("{esc:judge|", 1, true) == 1 then
      pings = pings + 1
      process.send(from, "pong", { nonce = m:payload(), pid = process.pid(),
        pings = pings, pokes = pokes })
    else
      pokes = pokes + 1
    end
  end
end }
