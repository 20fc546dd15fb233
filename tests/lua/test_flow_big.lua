local check = require("check")

-- "A 64 MiB transfer does not hold up small messages behind it" (issue
-- 14; README "Sends across hosts", SECURITY.md V22), at the default
-- link_queue. t:bigs's window towards t:bigr (its share of t:bigr's
-- 64 MiB link_queue) is far below one 64 MiB message, which goes anyway
-- (one message always may) and then fills it. A reader on t:bigr (a
-- mailbox of 4 messages) reads nothing until told: 4 small messages fill
-- its mailbox, and the 64 MiB message that follows waits at t:bigr with
-- its credit, for as long as the reader does not read. Meanwhile this
-- process has 200 round trips with an echo on t:bigr: each send to the
-- echo, which has nothing in flight, goes within the echo's own share
-- (WD_FLOW_DEST_OWN) of what t:bigs may have in flight there. They used
-- to wait for the window the big message filled and fail after
-- send_timeout. Then the reader is told to read: all 5 messages, the big
-- one whole.
local BIG = 64 * 1024 * 1024 - 1024
local TRIPS = 200

return { main = function()
  local me = process.pid()
  local inbox = process.listen("reply")
  local counted = process.listen("counted")
  local gate = check.ok(process.spawn("t:sleeper", "t:bigr", "600s"))
  local reader = check.ok(process.spawn("t:flow_big_reader", "t:bigr", gate,
                                        5, me))
  for i = 1, 4 do
    check.eq(process.send(reader, "n", "fill"), true, "fill " .. i)
  end
  do
    local big = string.rep("b", BIG)
    check.eq(process.send(reader, "n", big), true, "the 64 MiB message")
  end
  collectgarbage()
  local echo = check.ok(process.spawn("t:echo", "t:bigr"))
  local done = 0
  for i = 1, TRIPS do
    local ok, err = process.send(echo, "echo", i)
    check.eq(ok, true, "round trip " .. i .. ": the send (" ..
             tostring(err) .. ")")
    check.eq(check.recv(inbox, "60s", "round trip " .. i), i, "reply " .. i)
    done = done + 1
  end
  check.eq(done, TRIPS, "round trips while the 64 MiB message waits unread")
  process.send(echo, "stop")
  process.terminate(gate)
  local r = check.recv(counted, "120s", "the reader's count")
  check.eq(r.n, 5, "messages read")
  check.eq(r.big, BIG, "the 64 MiB message, whole")
  check.eq(r.bytes, BIG + 4 * 4, "bytes read")
  return true
end }
