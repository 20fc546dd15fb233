local check = require("check")

-- "A congested destination holds up only the sends to it" (README "Sends
-- across hosts", SECURITY.md V14, V22) when the congestion is in bytes:
-- t:flowbytes holds 1 MiB in all its mailboxes (mailbox_bytes) and
-- 100,000 messages per process. A producer on t:flowb fills a sink on
-- t:flowbytes that never reads with 64 KiB messages until its send fails
-- (LimitExceeded after send_timeout), then a second sink with 1-byte
-- messages until that fails: the host's bytes are taken by two processes
-- that never read. Then this process asks an echo on t:flowbytes, which
-- reads everything, for an answer: the echo's own share (every process may
-- hold 64 KiB past the host's bytes) takes it at once. It used to wait
-- at the host for as long as the sinks lived (a local sender's would
-- time out): one process could take every byte of its host's mailboxes.
-- Then the producer on t:flowb asks the echo itself: its window towards
-- t:flowbytes is full of the sinks' messages, waiting there for room,
-- yet the echo has nothing in flight, and a destination's first 64 KiB
-- in flight are its own (WD_FLOW_DEST_OWN): the send goes at once. It
-- used to wait for that window and fail after send_timeout (one
-- destination that never reads held up its sender host's sends to every
-- process of that host). Then the same from a producer on t:flowbytes
-- itself (sends that wait in the receiver's queue, not at the host's
-- link).

-- Fill two fresh sinks on t:flowbytes from a producer on 'from'; then
-- the echo is asked by this process (t:a) if 'here', else by the
-- producer.
local function round(me, blocked, from, here)
  local time = require("time")
  local sink = check.ok(process.spawn("t:sleeper", "t:flowbytes", "600s"))
  local sink2 = check.ok(process.spawn("t:sleeper", "t:flowbytes", "600s"))
  local echo = check.ok(process.spawn("t:echo", "t:flowbytes"))
  check.ok(process.spawn("t:flow_bytes_blocked", from, sink, sink2, me, 65536,
                         not here and echo or nil, "60s"))
  local r = check.recv(blocked, "240s", "blocked report from " .. from)
  if here then
    local inbox = process.listen("reply")
    r.sent, r.serr = process.send(echo, "echo", "hello")
    local got = channel.select({ inbox:case_receive(),
                                 time.after("60s"):case_receive() })
    r.echoed = got.channel == inbox and got.value or nil
    process.unlisten(inbox)
  end
  process.terminate(sink)
  process.terminate(sink2)
  process.send(echo, "stop")
  local what = " (a producer on " .. from .. ")"
  check.eq(r.kind, errors.LIMIT_EXCEEDED, "kind (" .. r.msg .. ")" .. what)
  check.eq(r.sent, true, "the send to the echo (" .. tostring(r.serr) .. ")" ..
           what)
  check.eq(r.echoed, "hello", "the echo answered past the congestion of " ..
           r.accepted .. " messages to the sinks" .. what)
end

return { main = function()
  local me = process.pid()
  local blocked = process.listen("blocked")
  round(me, blocked, "t:flowb", true)
  round(me, blocked, "t:flowb", false)
  round(me, blocked, "t:flowbytes", false)
  return true
end }
