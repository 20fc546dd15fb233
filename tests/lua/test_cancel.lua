-- terminate and cancel (with and without a deadline), on one host and across.
local check = require("check")
local time = require("time")

return { main = function()
  local ev = process.events()
  local rd = process.listen("blocker_ready")
  local lrd = process.listen("long_ready")
  local cev = process.listen("cancel_event")
  for _, host in ipairs(check.HOSTS) do
    -- A process that reads its events returns on CANCEL.
    local w = check.ok(process.spawn_monitored("t:long_worker", host, process.pid()))
    check.recv(lrd)
    local before = os.time()
    check.eq(process.cancel(w, "5s"), true)
    local c = check.recv(cev, "3s", "cancel event")
    check.eq(c.kind, process.event.CANCEL)
    check.eq(c.from, process.pid())
    check.eq(math.type(c.deadline), "integer")
    check.ok(c.deadline >= before + 4 and c.deadline <= os.time() + 6, "deadline timestamp")
    local e = check.event(ev, process.event.EXIT, w)
    check.eq(e.result.value, "cancelled")
    -- Deadline enforced: a process that ignores CANCEL is terminated at it.
    process.spawn_monitored("t:blocker", host, process.pid())
    local b = check.recv(rd)
    local t0 = time.now()
    check.eq(process.cancel(b, "100ms"), true)
    e = check.event(ev, process.event.EXIT, b, "3s", "deadline kill")
    local waited = time.now():sub(t0):milliseconds()
    check.ok(waited >= 90, "killed no earlier than the deadline: " .. waited)
    check.ok(tostring(e.result.error):find("cancel deadline passed", 1, true), tostring(e.result.error))
    -- Deadline in milliseconds (integer).
    process.spawn_monitored("t:blocker", host, process.pid())
    b = check.recv(rd)
    check.eq(process.cancel(b, 50), true)
    check.event(ev, process.event.EXIT, b, "3s", "ms deadline")
    -- Without a deadline, cancel is a request only.
    process.spawn_monitored("t:blocker", host, process.pid())
    b = check.recv(rd)
    check.eq(process.cancel(b), true)
    check.no_event(ev, process.event.EXIT, b, "200ms", "advisory cancel")
    check.eq(process.send(b, "still", "alive"), true, "still alive")
    process.terminate(b)
    check.event(ev, process.event.EXIT, b)
    -- Errors.
    check.fails(errors.INVALID, process.cancel(b, "soon"))
    check.fails(errors.INVALID, process.cancel(b, true))
    check.fails(errors.NOT_FOUND, process.cancel(b))
    check.fails(errors.NOT_FOUND, process.terminate(b))
  end
  check.fails(errors.INVALID, process.cancel())
  check.fails(errors.INVALID, process.terminate())
  return true
end }
