local check = require("check")

-- KNOWN DEFECT (not run by ctest). "Nothing accepted is lost" (README
-- "Messaging", "Sends across hosts"): a producer on d:a sends 600
-- messages of 512 KiB in turn to six processes on d:busy (default
-- limits), which read everything; one more process on d:busy only
-- spins, so the host reads its link once per slice. Every send returns
-- true. Credit bounds each destination (16 MiB in flight) but not the
-- host: six destinations hold 96 MiB in flight, over d:busy's link_queue
-- (64 MiB), and the broker drops the rest as if the receivers had died
-- (SECURITY.md V15, meant for a host that does not read): each receiver
-- counts fewer messages than were accepted for it.
return { main = function()
  local me = process.pid()
  local sentc = process.listen("sent")
  local counted = process.listen("counted")
  local spin = check.ok(process.spawn("d:spin", "d:busy"))
  local sinks = {}
  for i = 1, 6 do sinks[i] = check.ok(process.spawn("d:counter", "d:busy")) end
  local p = check.ok(process.spawn("d:round_robin", "d:a", sinks, 600,
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
