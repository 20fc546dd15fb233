-- CVE-2024-31449 style, the other end: math.maxinteger (and durations near
-- INT64_MAX) on ward's bindings, where C code multiplies or adds to the
-- value in signed 64-bit arithmetic: time.after / time.timer /
-- time.ticker / timer:reset / time.sleep (runtime/lua/ltime.c tmr_start:
-- ns + 999999), Time:add (t_add), and process.cancel's deadline in
-- milliseconds (runtime/lua/lprocess.c process_cancel: ms * 1000000).
-- Expected: a far-future timer never fires during the test; Time:add
-- saturates or errors; a cancel deadline of math.maxinteger ms (~292
-- million years) leaves the target running (a request to stop, not a
-- kill); no undefined behaviour (the UBSan build aborts the host on signed
-- overflow); the canary is unaffected.
-- KNOWN FAILURE (found by this test): process.cancel(pid, math.maxinteger)
-- terminates the target at once ("cancel deadline passed") in the release
-- build: the product wraps to a negative number, clamped to 0; and
-- time.now():add(math.maxinteger) wraps to a time before 1970. In the
-- UBSan build every case here aborts the attacker's host with "signed
-- integer overflow" at ltime.c:142, ltime.c:317 or lprocess.c:417.
local time = require("time")
local M = {}

local MAX = math.maxinteger

function M.attack()
  local out = {}
  local a = time.after(MAX)
  local a2 = time.after("2562047h47m16.854775807s")
  local tk = time.ticker(MAX)
  local tm = time.timer("1h")
  tm:reset(MAX)
  local r = channel.select({ a:case_receive(), a2:case_receive(), tk:channel():case_receive(),
    tm:channel():case_receive(), time.after("100ms"):case_receive() })
  out.timers = (r.channel == a or r.channel == a2 or r.channel == tk:channel()
    or r.channel == tm:channel()) and "FIRED" or "pending"
  tk:stop()
  tm:stop()
  local ok, v = pcall(function() return time.now():add(MAX):unix() end)
  out.add = ok and (v > 0 and "saturated or far future" or "WRAPPED to " .. tostring(v)) or "raised"
  local ev = process.events()
  local victim = process.spawn_monitored("esc:atk_idle", "esc:attacker")
  out.cancel = tostring(process.cancel(victim, MAX))
  local e = channel.select({ ev:case_receive(), time.after("200ms"):case_receive() }).value
  out.cancel_exit = type(e) == "table" and tostring(e.result.error) or "still running"
  process.terminate(victim)
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_cve_2024_31449_overflow", "esc:attacker", "5s"))
  -- Every breach is listed before the test fails.
  local breaches = {}
  local function want(ok, what) if not ok then breaches[#breaches + 1] = what end end
  want(r.timers == "pending", "timers of math.maxinteger ns: " .. r.timers)
  want(r.add == "saturated or far future" or r.add == "raised", "Time:add(math.maxinteger): " .. r.add)
  want(r.cancel == "true", "process.cancel(pid, math.maxinteger) returned " .. r.cancel)
  want(r.cancel_exit == "still running",
    "a cancel with a deadline of math.maxinteger ms ended the target at once: " .. r.cancel_exit)
  J.finish()
  J.eq(table.concat(breaches, "; "), "", "integer overflow breaches")
  return true
end

return M
