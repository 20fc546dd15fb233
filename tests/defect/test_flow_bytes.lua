local check = require("check")

-- KNOWN DEFECT (not run by ctest). "A congested destination holds up
-- only the sends to it" (README "Sends across hosts", SECURITY.md V22)
-- does not hold when the congestion is in bytes: d:flowbytes holds 1 MiB
-- in all its mailboxes (mailbox_bytes) and 100,000 messages per process.
-- A producer on d:flowb fills a sink on d:flowbytes that never reads
-- with 64 KiB messages until its send fails, then a second sink with
-- 1-byte messages until that fails: the host's bytes are used up by two
-- processes that never read. Then it asks an echo on d:flowbytes, which
-- reads everything, for an answer: its message is parked at the host for
-- as long as the sinks live (20 s here), and a local sender's would time
-- out. A process may take every byte of its host's mailboxes.
return { main = function()
  local me = process.pid()
  local blocked = process.listen("blocked")
  local sink = check.ok(process.spawn("d:sleeper", "d:flowbytes", "600s"))
  local sink2 = check.ok(process.spawn("d:sleeper", "d:flowbytes", "600s"))
  local echo = check.ok(process.spawn("d:echo", "d:flowbytes"))
  check.ok(process.spawn("d:flow_bytes_blocked", "d:flowb", sink, sink2, me,
                         echo, 65536, "20s"))
  local r = check.recv(blocked, "120s", "remote blocked report")
  process.terminate(sink)
  process.terminate(sink2)
  process.send(echo, "stop")
  check.eq(r.kind, errors.LIMIT_EXCEEDED, "kind (" .. r.msg .. ")")
  check.eq(r.sent, true, "the send to the echo (" .. tostring(r.serr) .. ")")
  check.eq(r.echoed, "hello", "the echo answered past the congestion of " ..
           r.accepted .. " messages to the sink")
  return true
end }
