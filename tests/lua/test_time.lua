local check = require("check")
local time = require("time")

return { main = function()
  local t0 = time.now()
  time.sleep("30ms")
  local el = time.now():sub(t0):milliseconds()
  check.ok(el >= 29, "slept at least 30ms, got " .. el)
  time.sleep(5 * time.MILLISECOND)
  time.sleep(0)
  check.eq(time.SECOND, 1000000000)
  check.eq(time.parse_duration("1.5s"):milliseconds(), 1500)
  check.eq(time.parse_duration("2h45m"):minutes(), 165)
  check.eq(tostring(time.parse_duration("100ms")), "100ms")
  check.fails(errors.INVALID, time.parse_duration("5 parsecs"))
  check.fails(errors.INVALID, time.sleep("soon"))
  check.fails(errors.INVALID, time.after(0))
  check.fails(errors.INVALID, time.after("-1s"))
  -- after: one Time value.
  local a = time.after("10ms")
  local v, ok = a:receive()
  check.ok(ok and v:unix() > 1600000000, "after delivers a Time")
  -- timer: stop before it fires.
  local tm = time.timer("1s")
  check.eq(tm:stop(), true, "stopped an armed timer")
  check.eq(tm:stop(), false, "second stop")
  local r = channel.select({ tm:channel():case_receive(), default = true })
  check.eq(r.default, true, "stopped timer never fires")
  -- timer: reset.
  local tr = time.timer("1h")
  tr:reset("10ms")
  check.recv(tr:response(), "1s", "reset timer fires")
  -- ticker: several ticks, then stop.
  local tk = time.ticker("5ms")
  for _ = 1, 3 do check.recv(tk:channel(), "1s", "tick") end
  check.eq(tk:stop(), true)
  check.ok(time.now():format("%Y"):match("^%d%d%d%d$"), "format")
  return true
end }
