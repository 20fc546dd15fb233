local check = require("check")

-- A host restarted while another holds credit for its processes (README
-- "Sends across hosts"): a sender on t:b fills a sink on t:crashy
-- (restart: true) with 512 KiB messages past its host's mailbox bytes (64
-- MiB) and its own credit (16 MiB parked at t:crashy), then t:crashy
-- dies. The waiting send fails (Unavailable, or LimitExceeded when the
-- crash comes after send_timeout); afterwards a send to the old sink
-- fails at once (NotFound) and one to a process of the new t:crashy goes
-- through. The sanitizer runs see no leak or misuse on any host.
return { main = function()
  local me = process.pid()
  local ev = process.events()
  local sending = process.listen("sending")
  local stopped = process.listen("stopped")
  local again = process.listen("again")
  local sink = check.ok(process.spawn("t:sleeper", "t:crashy", "600s"))
  local s = check.ok(process.spawn("t:flow_restart_sender", "t:b", sink, me,
                                   1 << 19))
  check.recv(sending, "60s", "sender started")
  local crasher = check.ok(process.spawn_monitored("t:crasher", "t:crashy",
                                                   20000))
  check.event(ev, process.event.EXIT, crasher, "60s", "t:crashy died")
  local r = check.recv(stopped, "60s", "sender stopped")
  check.ok(r.kind == errors.UNAVAILABLE or r.kind == errors.NOT_FOUND or
           r.kind == errors.LIMIT_EXCEEDED, r.kind .. ": " .. r.msg)
  local fresh, tries = nil, 0
  while not fresh and tries < 600 do
    fresh = process.spawn("t:echo", "t:crashy")
    if not fresh then tries = tries + 1 require("time").sleep("100ms") end
  end
  check.ok(fresh, "t:crashy came back")
  check.eq(process.send(s, "again", fresh), true, "again")
  local a = check.recv(again, "60s", "sender again")
  check.eq(a.new, true, "a send to the new t:crashy")
  check.eq(a.old, errors.NOT_FOUND, "a send to the old sink")
  process.terminate(s)
  process.send(fresh, "stop")
  return true
end }
