local check = require("check")

-- A process's messages come before its exit (README "Sends across
-- hosts": order is kept per sender and receiver, and a process's
-- lifecycle operations come after its messages), also when they wait at
-- the receiving host for room: W on t:flow (mailbox 10) monitors S on
-- t:flowb; its mailbox is full of messages it never reads ("junk"); S
-- sends it 3 messages (each send returns true: the host has the credit)
-- and ends. When W sees S's EXIT, S's 3 messages are in its mailbox.
return { main = function()
  local me = process.pid()
  local ready = process.listen("ready")
  local sent = process.listen("sent")
  local drained = process.listen("drained")
  local s = check.ok(process.spawn("t:flow_last_words", "t:flowb", me, 3))
  local w = check.ok(process.spawn("t:flow_watcher", "t:flow", me, s))
  check.eq(check.recv(ready, "60s", "watcher ready"), w, "watcher")
  -- 12 messages for a mailbox of 10: the last two wait at t:flow.
  for i = 1, 12 do check.eq(process.send(w, "junk", i), true, "junk " .. i) end
  check.eq(process.send(s, "go", w), true, "go")
  check.eq(check.recv(sent, "60s", "S sent"), 3, "S's sends returned true")
  local got = check.recv(drained, "60s", "watcher drained")
  process.terminate(w)
  check.eq(#got, 3, "S's messages in the mailbox when its EXIT came")
  for i = 1, 3 do check.eq(got[i], i, "message " .. i) end
  return true
end }
