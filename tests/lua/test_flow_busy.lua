local check = require("check")

-- "Nothing accepted is lost" on a busy host (an attacker's pass found it
-- lost): a producer on t:a sends 120 messages of 512 KiB in turn to six
-- processes on t:busy (link_queue 16 MiB), which read everything; one
-- more process on t:busy only spins, so the host reads its link once per
-- slice. Credit per destination (16 MiB) let six destinations hold 60
-- MiB in flight, over t:busy's link_queue, and the broker dropped the
-- rest as if the receivers had died. Now what a host has in flight to
-- another, all destinations together, stays within its share of that
-- host's link_queue: every receiver counts every message accepted for
-- it.
return { main = function()
  local me = process.pid()
  local sentc = process.listen("sent")
  local counted = process.listen("counted")
  local spin = check.ok(process.spawn("t:flow_spin", "t:busy"))
  local sinks = {}
  for i = 1, 6 do sinks[i] = check.ok(process.spawn("t:flow_counter", "t:busy")) end
  local p = check.ok(process.spawn("t:flow_round_robin", "t:a", sinks, 120,
                                   512 * 1024, me))
  local sent = check.recv(sentc, "120s", "producer done")
  -- While the link is over its bound, the request is refused
  -- (Unavailable): again until it goes.
  local time = require("time")
  local stopped, tries = process.terminate(spin), 0
  while not stopped and tries < 1200 do
    time.sleep("50ms")
    stopped, tries = process.terminate(spin), tries + 1
  end
  check.ok(stopped, "the spinner terminated")
  check.eq(process.send(p, "go", true), true, "go")
  local got = {}
  for _ = 1, 6 do
    local r = check.recv(counted, "120s", "a receiver's count")
    got[r.who] = r.n
  end
  for i = 1, 6 do process.terminate(sinks[i]) end
  for i = 1, 6 do
    check.eq(got[sinks[i]], sent[i], "messages received by " .. sinks[i] ..
             " of those accepted for it")
  end
  return true
end }
