-- Attack: flood a mailbox — on the same host and across hosts — hoping to
-- exhaust memory or make ward drop messages silently.
-- Expected: sends succeed until the receiver's mailbox is full (on its
-- host), or until the sender's credit for it is used up too (across
-- hosts: the messages past the mailbox wait at the receiver, bounded by
-- the credit), then a send waits send_timeout (200 ms on both hosts) and
-- fails with LimitExceeded "mailbox full" on the sender's side;
-- everything accepted is delivered, in order (the sink counts them); the
-- canary is unaffected. Bounds: esc:tight mailbox 100, esc:attacker
-- mailbox 1000.
local time = require("time")
local M = {}

function M.attack(host, cap)
  local counts = process.listen("count")
  -- The sink reads nothing until this gate ends (after the flood).
  local gate = assert(process.spawn("esc:atk_idle", host))
  local sink = process.spawn("esc:atk_sink", host, process.pid(), gate)
  local accepted, err = 0, nil
  for i = 1, cap do
    local ok, e = process.send(sink, "fill", i)
    if not ok then err = e break end
    accepted = i
  end
  -- Keep trying while full: each must fail the same way.
  local more = 0
  for _ = 1, 3 do
    local ok = process.send(sink, "fill", -1)
    if ok then more = more + 1 end
  end
  assert(process.terminate(gate))
  local c = channel.select({ counts:case_receive(), time.after("30s"):case_receive() })
  return { accepted = accepted, kind = err and err:kind(), msg = err and tostring(err),
           more = more, got = c.value and c.value.n, ordered = c.value and c.value.ordered }
end

function M.main()
  local J = require("judge")
  J.begin()
  for _, case in ipairs({ { "esc:tight", "esc:attacker", 100 }, { "esc:tight", "esc:tight", 100 },
                          { "esc:attacker", "esc:attacker", 1000 }, { "esc:attacker", "esc:tight", 1000 } }) do
    local sink_host, from, bound = case[1], case[2], case[3]
    local what = "sink on " .. sink_host .. " from " .. from
    local cap = 100000
    local r = J.value(J.attack("esc:atk_message_flood", from, "60s", sink_host, cap))
    if from == sink_host then
      J.eq(r.accepted, bound, what .. ": accepted")
    else
      J.eq(r.accepted >= bound and r.accepted < cap, true,
           what .. ": accepted " .. tostring(r.accepted) .. ", bounded")
    end
    J.eq(r.kind, errors.LIMIT_EXCEEDED, what .. ": error kind")
    J.has(r.msg, "mailbox full", what)
    J.eq(r.more, 0, what .. ": sends to a full mailbox")
    J.eq(r.got, r.accepted, what .. ": delivered")
    J.eq(r.ordered, true, what .. ": in order")
  end
  return J.finish()
end

return M
