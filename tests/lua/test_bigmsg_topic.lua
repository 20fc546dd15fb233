local check = require("check")

-- A big message across hosts (past WD_HOST_NOCOPY_MIN, 256 KiB: made in
-- the received record's buffer, wd__host_msg_new) with a long topic: the
-- message's header laid in front of the payload must not overwrite the
-- destination PID the receiving host then credits (runtime/flow.c
-- wd_host_on_msg). It did with a topic of 28 bytes or more: the credit
-- named a garbled PID, and the broker killed the honest receiving host
-- ("credit for a PID not of this host"). Each size and topic length
-- round trips, three times, and the echo is still there.
return { main = function()
  local inbox = process.inbox()
  for _, tl in ipairs({ 8, 27, 28, 64, 255 }) do
    local topic = string.rep("t", tl)
    local echo = check.ok(process.spawn("t:echo_topic", "t:b", topic))
    local mon = process.monitor(echo)
    for i = 1, 3 do
      local big = string.rep(string.char(65 + i), 300 * 1024)
      check.eq(process.send(echo, topic, big), true, "send " .. tl)
      local m = check.recv(inbox, "10s", "reply topic " .. tl .. " #" .. i)
      check.eq(m:topic(), "reply", "a reply, topic length " .. tl)
      check.ok(m:payload() >= #big, "length back, topic length " .. tl)
    end
    process.send(echo, "stop")
  end
  return true
end }
