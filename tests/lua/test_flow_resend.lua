local check = require("check")

-- A sending host restarted while what it sent waits at the receiving
-- host (SECURITY.md V22). The broker counts what each host has in flight
-- and kills one that sends past its credit; what an earlier incarnation
-- of a host left in flight must count neither against the next one nor
-- pay it credit. A sender on t:crashy (restart: true) fills a reader on
-- t:flow (mailbox 10) that does not read yet: 10 in its mailbox, a
-- window of 4,096 waiting at its host. t:crashy dies and comes back; a
-- new sender there sends the reader another window, then 500 more, which
-- wait for credit. Then the reader reads: the credit for the first
-- sender's messages goes to nobody, the second sender's comes back to it
-- and its last 500 go. Nobody is killed; every message arrives.
return { main = function()
  local me = process.pid()
  local ev = process.events()
  local filled = process.listen("filled")
  local done = process.listen("done")
  local counted = process.listen("counted")
  local first, second = 10 + 4096, 4096 + 500
  local gate = check.ok(process.spawn("t:sleeper", "t:flow", "600s"))
  local reader = check.ok(process.spawn("t:flow_gated_reader", "t:flow", gate,
                                        first + second, me))
  check.ok(process.spawn("t:flow_filler", "t:crashy", reader, first, me, "one"))
  local f = check.recv(filled, "60s", "the first sender's messages")
  check.eq(f.tag, "one", "the first sender")
  check.eq(f.sent, first, "the first sender's messages sent")
  local crasher = check.ok(process.spawn_monitored("t:crasher", "t:crashy",
                                                   20000))
  check.event(ev, process.event.EXIT, crasher, "60s", "t:crashy died")
  local s, tries = nil, 0
  while not s and tries < 600 do
    s = process.spawn("t:flow_filler", "t:crashy", reader, second, me, "two",
                      4096)
    if not s then tries = tries + 1 require("time").sleep("100ms") end
  end
  check.ok(s, "t:crashy came back")
  local g
  repeat g = check.recv(filled, "60s", "the second sender's window") until g.tag == "two"
  check.eq(g.sent, 4096, "the second sender's window sent")
  process.terminate(gate)
  local d
  repeat d = check.recv(done, "60s", "the second sender") until d.tag == "two"
  check.eq(d.kind, nil, "the second sender's failure")
  check.eq(d.sent, second, "the second sender's messages sent")
  check.eq(check.recv(counted, "60s", "the reader's count"), first + second,
           "messages read")
  return true
end }
