-- Monitors: EXIT to every monitor on every exit, on one host and across.
local check = require("check")

return { main = function()
  local ev = process.events()
  for _, host in ipairs(check.HOSTS) do
    -- Normal exit: EXIT with the value.
    local pid = check.ok(process.spawn_monitored("t:value_exit", host, { answer = 42 }))
    local e = check.event(ev, process.event.EXIT, pid, "3s", "exit on " .. host)
    check.eq(e.kind, "pid.exit")
    check.eq(e.from, pid)
    check.eq(math.type(e.at), "integer", "at is unix seconds")
    check.eq(e.result.value.answer, 42, "EXIT carries the value")
    check.eq(e.result.error, nil)
    -- A child that dies at once is still reported (monitor set before it runs).
    pid = check.ok(process.spawn_monitored("t:error_exit", host, "boom"))
    e = check.event(ev, process.event.EXIT, pid)
    check.eq(e.result.value, nil)
    check.eq(type(e.result.error), "userdata", "error object")
    check.ok(tostring(e.result.error):find("boom", 1, true), tostring(e.result.error))
    -- After EXIT, the PID is gone.
    check.fails(errors.NOT_FOUND, process.send(pid, "x"))
    -- monitor() on a running process, then terminate: EXIT "process terminated".
    local rd = process.listen("blocker_ready")
    process.spawn("t:blocker", host, process.pid())
    local b = check.recv(rd)
    check.eq(process.monitor(b), true)
    local ok, err = process.monitor(b)
    check.eq(ok, nil)
    check.ok(err ~= nil, "monitoring twice is an error")
    check.eq(process.terminate(b), true)
    e = check.event(ev, process.event.EXIT, b)
    check.ok(tostring(e.result.error):find("process terminated", 1, true), tostring(e.result.error))
    -- unmonitor stops delivery.
    process.spawn("t:blocker", host, process.pid())
    b = check.recv(rd)
    check.eq(process.monitor(b), true)
    check.eq(process.unmonitor(b), true)
    check.eq(process.unmonitor(b), true, "unmonitor twice is fine")
    process.terminate(b)
    check.no_event(ev, process.event.EXIT, b, "200ms", "after unmonitor")
    -- Errors.
    local mok, merr = process.monitor(pid)
    check.fails(errors.NOT_FOUND, mok, merr, "monitor a dead pid")
    check.fails(errors.INVALID, process.monitor())
  end
  check.fails(errors.NOT_FOUND, process.monitor("no-such-name"))
  return true
end }
