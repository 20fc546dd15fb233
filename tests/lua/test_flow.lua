local check = require("check")
local time = require("time")

-- Flow control (README "Sends across hosts"): a send to a full mailbox
-- waits for room, or fails with LimitExceeded once its host's
-- send_timeout passes (300 ms on t:flow and t:flowb, whose mailboxes
-- hold 10 messages); across hosts, credit keeps the same promise: a
-- naive producer is slowed, nothing accepted is lost, and a congested
-- destination holds up nothing else. A host knows which PIDs it talked
-- to have died.

local function wait_for(ch, topic_what)
  return check.recv(ch, "60s", topic_what)
end

return { main = function()
  local me = process.pid()
  local consumed = process.listen("consumed")
  local produced = process.listen("produced")
  local blocked = process.listen("blocked")

  -- 1. Within a host: 10 fit, the 11th waits and fails after send_timeout.
  do
    local sink = check.ok(process.spawn("t:sleeper", "t:flow", "600s"))
    check.ok(process.spawn("t:flow_blocked", "t:flow", sink, me))
    local r = wait_for(blocked, "local blocked report")
    check.eq(r.accepted, 10, "accepted before the mailbox was full")
    check.eq(r.kind, errors.LIMIT_EXCEEDED, "kind")
    check.ok(r.msg:find("send_timeout", 1, true), r.msg)
    process.terminate(sink)
  end

  -- 2. Within a host: two producers of 300 each into a mailbox of 10,
  -- read slowly: every message arrives, each producer's in order.
  do
    local c = check.ok(process.spawn("t:flow_consumer", "t:flow", 600, me))
    for p = 1, 2 do
      check.ok(process.spawn("t:flow_producer", "t:flow", c, p, 300, me))
    end
    for _ = 1, 2 do
      local r = wait_for(produced, "local producer")
      check.eq(r.failed, nil, "local producer failure")
      check.eq(r.sent, 300, "sent")
    end
    local r = wait_for(consumed, "local consumer")
    check.eq(r.count, 600, "local count")
    check.eq(r.inorder, true, "local order per producer")
  end

  -- 3. Across hosts, the naive fan-in: four producers on t:flowb send
  -- 3,000 plain sequential messages each to one consumer on t:flow
  -- (mailbox 10, a little work per message): nothing refused, nothing
  -- lost, each producer's in order.
  do
    local n, np = 3000, 4
    local c = check.ok(process.spawn("t:flow_consumer", "t:flow", n * np, me))
    for p = 1, np do
      check.ok(process.spawn("t:flow_producer", "t:flowb", c, p, n, me))
    end
    for _ = 1, np do
      local r = wait_for(produced, "remote producer")
      check.eq(r.failed, nil, "remote producer failure")
      check.eq(r.sent, n, "sent")
    end
    local r = wait_for(consumed, "remote consumer")
    check.eq(r.count, n * np, "fan-in count")
    check.eq(r.inorder, true, "fan-in order per producer")
  end

  -- 4. Across hosts, a destination that never reads: the producer is
  -- slowed, then its send fails after send_timeout; its traffic to
  -- another process of the same host still flows.
  do
    local sink = check.ok(process.spawn("t:sleeper", "t:flow", "600s"))
    local echo = check.ok(process.spawn("t:echo", "t:flow"))
    check.ok(process.spawn("t:flow_blocked", "t:flowb", sink, me, echo))
    local r = wait_for(blocked, "remote blocked report")
    check.ok(r.accepted >= 10, "accepted " .. tostring(r.accepted))
    check.eq(r.kind, errors.LIMIT_EXCEEDED, "kind")
    check.ok(r.msg:find("send_timeout", 1, true), r.msg)
    check.eq(r.echoed, "hello", "the echo answered past the congestion")
    process.terminate(sink)
    process.send(echo, "stop")
  end

  -- 5. A sender killed while it waits, on its host and across hosts:
  -- it ends, and both hosts serve on (the sanitizer runs see no leak).
  do
    local ev = process.events()
    for _, host in ipairs({ "t:flow", "t:flowb" }) do
      local sink = check.ok(process.spawn("t:sleeper", "t:flow", "600s"))
      -- Fill the sink (and, across hosts, the credit) first.
      check.ok(process.spawn("t:flow_blocked", host, sink, me))
      wait_for(blocked, "filler on " .. host)
      local w = check.ok(process.spawn_monitored("t:flow_producer", host, sink,
                                                 1, 10, me))
      time.sleep("50ms")
      check.eq(process.terminate(w), true, "terminate the waiting sender")
      check.event(ev, process.event.EXIT, w, "60s", "waiting sender ended")
      process.terminate(sink)
      check.eq(process.exec("t:value_exit", host, 5), 5, host .. " serves on")
    end
  end

  -- 6. A process this host talked to has died: a send to it fails at
  -- once. B on t:b answers once, then stops; C on t:flowb watches B and
  -- tells us. B's host says it died (DIED) before B's exit goes out, so
  -- this host knows by the time C's word arrives.
  do
    local inbox = process.listen("reply")
    local ready = process.listen("relay_ready")
    local died = process.listen("died")
    local b = check.ok(process.spawn("t:echo", "t:b"))
    check.ok(process.spawn("t:flow_relay", "t:flowb", b, me))
    wait_for(ready, "relay ready")
    check.eq(process.send(b, "echo", 1), true, "talk to B")
    check.eq(wait_for(inbox, "B's answer"), 1, "B answered")
    check.eq(process.send(b, "stop", true), true, "stop B")
    check.eq(wait_for(died, "B died"), b, "relay")
    local err = check.fails(errors.NOT_FOUND, process.send(b, "echo", 2))
    check.ok(tostring(err):find(b, 1, true), tostring(err))
  end

  -- 7. A PID this host never talked to, dead already: the first send is
  -- dropped on the way (as in Erlang); the host learns from it, and the
  -- sends after it fail at once.
  do
    local ev = process.events()
    local d = check.ok(process.spawn_monitored("t:exit_now", "t:flowb"))
    check.event(ev, process.event.EXIT, d, "60s", "exit_now ended")
    -- The EXIT told this host: at once.
    check.fails(errors.NOT_FOUND, process.send(d, "x", 1))
    local q = check.ok(process.spawn("t:exit_now", "t:flowb"))
    local failed, tries = false, 0
    while not failed and tries < 6000 do
      local ok, e = process.send(q, "x", tries)
      if not ok then
        check.eq(e:kind(), errors.NOT_FOUND, "kind")
        failed = true
      else
        tries = tries + 1
        time.sleep("10ms")
      end
    end
    check.ok(failed, "the host learned that " .. q .. " is dead")
    check.fails(errors.NOT_FOUND, process.send(q, "x", 1))
  end
  -- 8. A name resolves without a round trip after its first use, and a
  -- change of its owner is never missed: R1 on t:b holds it, ends; R2
  -- on t:flowb takes it; a send by name after R2 said so reaches R2.
  do
    local ev = process.events()
    local reg = process.listen("registered")
    local inbox = process.listen("reply")
    local name = "flow_svc_" .. process.pid()
    local r1 = check.ok(process.spawn_monitored("t:flow_named", "t:b", name, me))
    check.eq(wait_for(reg, "R1 registered"), r1, "R1")
    for i = 1, 3 do
      check.eq(process.send(name, "echo", i), true, "send by name " .. i)
      local r = wait_for(inbox, "R1's answer")
      check.eq(r.who, r1, "answered by R1")
      check.eq(r.v, i, "payload")
    end
    check.eq(process.send(r1, "stop", true), true, "stop R1")
    check.event(ev, process.event.EXIT, r1, "60s", "R1 ended")
    local r2 = check.ok(process.spawn("t:flow_named", "t:flowb", name, me))
    check.eq(wait_for(reg, "R2 registered"), r2, "R2")
    check.eq(process.send(name, "echo", 4), true, "send by name to R2")
    local r = wait_for(inbox, "R2's answer")
    check.eq(r.who, r2, "the new owner answered")
    check.eq(r.v, 4, "payload")
    check.eq(process.send(r2, "stop", true), true, "stop R2")
    -- A name nobody holds fails at once.
    check.fails(errors.NOT_FOUND, process.send("flow_nobody_" .. me, "x", 1))
  end
  return true
end }
