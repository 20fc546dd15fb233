-- Same-host fairness (issue 11 item 6), four test entries (methods
-- hogs, in_c, slice, producers). A hog and an echo share host
-- t:fair (cpu 1s, other limits default); this test, on t:a, pings the
-- echo across hosts, so every answer needs the fair host's loop to serve
-- its I/O while the hog runs.
-- 1. A busy loop, a pcall loop, a loop of sorts with a Lua comparator and
--    a loop of gsubs with a Lua callback each run until the CPU budget ends
--    them; meanwhile the echo answers at least 10 pings. (Before: the
--    host served I/O once every 64 slices, 0-2 answers per CPU second.)
-- 2. A hog spinning inside a C call that called back into Lua (sort,
--    gsub, tostring, require), even one trying to catch its end (pcall,
--    xpcall, __close, coroutine.resume), is ended with LimitExceeded
--    "preempted inside a C call (<name>)"; the host and the echo live on.
--    (Before: never preempted; the host was killed as unresponsive.)
-- 3. slice: is honoured: with 250 ms (and cpu 1s), 2 to 8 answers while
--    the busy loop runs (before: the slice was ignored, 0 answers).
-- 4. Four producers and one consumer, a little work per message, on a host
--    with default limits: exact counts, in order; the host lives on; the
--    echo there answers at least 5 pings while they run (before: 0).
-- Counts, not durations, are asserted; timeouts only guard against hangs.
local check = require("check")
local time = require("time")

local ev, replies
local seq = 0

-- One ping to 'echo'; true when it answered, false when the hog 'hog'
-- exited first (its EXIT is then returned as well).
local function ping(echo, hog)
  seq = seq + 1
  check.eq(process.send(echo, "echo", seq), true, "ping sent")
  local guard = time.after("20s")
  while true do
    local r = channel.select({ ev:case_receive(), replies:case_receive(), guard:case_receive() })
    if r.channel == guard then error("no answer from the echo within 20s (hung?)", 2) end
    if r.channel == ev then
      if r.value.kind == process.event.EXIT and r.value.from == hog then return false, r.value end
    elseif r.value == seq then
      return true
    end
  end
end

local function start_echo(host)
  local echo = check.ok(process.spawn("t:echo", host))
  check.eq(ping(echo), true, "echo answers")
  return echo
end

-- Ping 'echo' while hog 'how' runs on 'host' until its CPU budget ends
-- it; returns the number of pings answered meanwhile.
local function counted(echo, how, host)
  local hog = check.ok(process.spawn_monitored("t:fair_hog", host or "t:fair", how))
  local n, e = 0, nil
  while true do
    local answered, exit = ping(echo, hog)
    if not answered then e = exit break end
    n = n + 1
  end
  check.ok(e.result.error, how .. ": the hog ended with an error")
  check.eq(e.result.error:kind(), errors.LIMIT_EXCEEDED, how .. ": " .. tostring(e.result.error))
  check.ok(tostring(e.result.error):find("cpu budget exceeded", 1, true), how .. ": " .. tostring(e.result.error))
  return n
end

local function ended_in_c(echo, how, name)
  local hog = check.ok(process.spawn_monitored("t:fair_hog", "t:fair", how))
  local e = check.event(ev, process.event.EXIT, hog, "20s", how)
  local err = e.result.error
  check.ok(err, how .. ": ended with an error, not " .. tostring(e.result.value))
  check.eq(err:kind(), errors.LIMIT_EXCEEDED, how .. ": " .. tostring(err))
  local want = "preempted inside a C call" .. (name and " (" .. name .. ")" or "")
  check.ok(tostring(err):find(want, 1, true), how .. ": " .. tostring(err))
  check.eq(ping(echo), true, how .. ": the echo on the same host still answers")
end

-- Four producers send K messages each to one consumer on 'host', where
-- the echo 'echo' lives too; the echo is pinged until the consumer
-- reports. Returns the number of pings answered meanwhile.
local function producers(host, echo)
  local counts = process.listen("counts")
  local K = 10000 -- 4 x K stays under the default mailbox (100000)
  local cons = check.ok(process.spawn_monitored("t:fair_consumer", host, process.pid(), 4 * K))
  local pids = {}
  for p = 1, 4 do pids[p] = check.ok(process.spawn_monitored("t:fair_producer", host, cons, p, K)) end
  local n, r = 0, nil
  while r == nil do
    seq = seq + 1
    check.eq(process.send(echo, "echo", seq), true, "ping sent")
    local guard = time.after("20s")
    while true do
      local c = channel.select({ counts:case_receive(), replies:case_receive(), guard:case_receive() })
      if c.channel == guard then error("neither the consumer nor the echo answered within 20s (hung?)") end
      if c.channel == counts then r = c.value break end
      if c.value == seq then n = n + 1 break end
    end
  end
  for p = 1, 4 do check.eq(r.counts[p], K, "messages from producer " .. p) end
  check.eq(r.ok, true, "every message in order and intact")
  for p = 1, 4 do
    local e = check.event(ev, process.event.EXIT, pids[p], "20s", "producer " .. p)
    check.eq(e.result.value, K, "producer " .. p .. ": " .. tostring(e.result.error))
  end
  local e = check.event(ev, process.event.EXIT, cons, "20s", "consumer")
  check.eq(e.result.value, 4 * K, "consumer: " .. tostring(e.result.error))
  process.unlisten(counts)
  return n
end

local function setup()
  ev = process.events()
  replies = process.listen("reply")
end

local T = {}

-- 1. Hogs that yield only when preempted.
function T.hogs()
  setup()
  local echo = start_echo("t:fair")
  for _, how in ipairs({ "loop", "pcall", "sort", "gsub" }) do
    local n = counted(echo, how)
    if n < 10 then
      error(string.format("%s: the echo answered %d pings while the hog ran (want >= 10)", how, n))
    end
  end
  process.send(echo, "stop")
  return true
end

-- 2. Hogs inside a C call that called back into Lua.
function T.in_c()
  setup()
  local echo = start_echo("t:fair")
  ended_in_c(echo, "sort_forever", "sort")
  ended_in_c(echo, "gsub_forever", "gsub")
  ended_in_c(echo, "tostring_forever", "tostring")
  ended_in_c(echo, "require_forever", "require")
  -- table.sort called by pcall: no call site names it.
  ended_in_c(echo, "catch", nil)
  process.send(echo, "stop")
  return true
end

-- 3. slice: 250ms on t:fair_slice (cpu 1s): the hog is preempted after
-- about 250 ms of CPU each time, 3 or 4 times before its budget ends it,
-- and the echo answers one ping at each preemption (with the default
-- 10 ms slice it would answer about 80).
function T.slice()
  setup()
  local echo = start_echo("t:fair_slice")
  local n = counted(echo, "loop", "t:fair_slice")
  if n < 2 or n > 8 then
    error(string.format("slice 250ms: the echo answered %d pings while the hog ran (want 2 to 8)", n))
  end
  process.send(echo, "stop")
  return true
end

-- 4. Four producers and one consumer on a host with default limits.
function T.producers()
  setup()
  local echo = start_echo("t:fair_default")
  local n = producers("t:fair_default", echo)
  if n < 5 then
    error(string.format("the echo answered %d pings while the producers ran (want >= 5)", n))
  end
  check.eq(ping(echo), true, "the producers' host still answers")
  process.send(echo, "stop")
  return true
end

return T
