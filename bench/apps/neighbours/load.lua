-- The attacker's loads. main(kind, report, secs, peer):
--   busy, pcall, sort, gsub  CPU hogs that never return: ward's shutdown
--                            ends them. sort and gsub first time one call
--                            and send it to REPORT as a "note".
--   sink                     receives and drops everything (1 MiB flood)
--   flood1m                  sends 1 MiB strings to PEER (a sink), from
--                            C coroutines (C sends in flight)
--   print                    prints 200-byte lines from C coroutines
--   names                    registers new names (and looks one up) from
--                            C coroutines, up to NAMES_MAX names
--   churn                    spawn_monitored nb:exit_now on host PEER and
--                            waits for its EXIT, from C coroutines
-- The floods stop by themselves after SECS seconds (or at shutdown).
local time = require("time")

local C = 4               -- coroutines per flood
-- One sort: about 30 ms of comparator calls (3 slices) when nothing slows
-- it; one gsub: about 12 ms (one slice). Today's ward kills the host of
-- the first at its turn deadline, and shows the second as latency.
local SORT_N, SORT_WORK = 4000, 300
local GSUB_LEN, GSUB_WORK = 20000, 300
local NAMES_MAX = 200000  -- names per flooding process

local function spin(k) for _ = 1, k do end end

local function timed(report, what, f)
  local t0 = time.now()
  f()
  process.send(report, "note", string.format("%s: the first call took %.0f ms",
    what, time.now():sub(t0):nanoseconds() / 1e6))
end

local hogs = {}
function hogs.busy() while true do end end
function hogs.pcall()
  while true do pcall(function() while true do end end) end
end
function hogs.sort(report)
  local t = {}
  for i = 1, SORT_N do t[i] = (i * 7919) % SORT_N end
  local function cmp(a, b) spin(SORT_WORK) return a < b end
  timed(report, "table.sort of " .. SORT_N .. " with a slow comparator",
        function() table.sort(t, cmp) end)
  while true do
    for i = 1, SORT_N do t[i] = (i * 7919) % SORT_N end
    table.sort(t, cmp)
  end
end
function hogs.gsub(report)
  local s = string.rep("x", GSUB_LEN)
  local function cb(c) spin(GSUB_WORK) return c end
  timed(report, "string.gsub of " .. GSUB_LEN .. " bytes with a callback",
        function() string.gsub(s, ".", cb) end)
  while true do string.gsub(s, ".", cb) end
end

-- Run body(i) from C coroutines until the deadline; body returns false to
-- stop its coroutine.
local function flood(secs, body)
  local stop = time.now():add(math.floor(secs * 1e9))
  local done = channel.new(C)
  for j = 1, C do
    coroutine.spawn(function()
      local i = 0
      repeat
        i = i + 1
        if body(j, i) == false then break end
      until i % 16 == 0 and time.now():after(stop)
      done:send(true)
    end)
  end
  for _ = 1, C do done:receive() end
  return true
end

local floods = {}
function floods.sink()
  local ch = process.listen("m")
  while true do ch:receive() end
end
function floods.flood1m(secs, peer)
  local m = string.rep("x", 1 << 20)
  local send = process.send
  return flood(secs, function() send(peer, "m", m) end)
end
function floods.print(secs)
  local line = string.rep("p", 199)
  return flood(secs, function() print(line) end)
end
function floods.names(secs)
  local reg, lookup = process.registry.register, process.registry.lookup
  local host = tostring(process.pid())
  local per = NAMES_MAX // C
  return flood(secs, function(j, i)
    if i > per then return false end
    reg(host .. "." .. j .. "." .. i)
    lookup(host .. "." .. j .. "." .. (i // 2 + 1))
  end)
end
function floods.churn(secs, peer)
  local EXIT = process.event.EXIT
  local ev = process.events()
  -- One reader of the events hands each EXIT to the coroutine waiting
  -- for it (or notes it, if it came before the spawn call returned).
  local waiting, early = {}, {}
  coroutine.spawn(function()
    while true do
      local e = ev:receive()
      if e.kind == EXIT then
        local w = waiting[e.from]
        if w then waiting[e.from] = nil; w:send(true) else early[e.from] = true end
      end
    end
  end)
  return flood(secs, function()
    local pid = process.spawn_monitored("nb:exit_now", peer)
    if not pid then return end
    if early[pid] then early[pid] = nil; return end
    local w = channel.new(1)
    waiting[pid] = w
    w:receive()
  end)
end

return { main = function(kind, report, secs, peer)
  if hogs[kind] then return hogs[kind](report) end
  if floods[kind] then return floods[kind](tonumber(secs), peer) end
  error("unknown load: " .. tostring(kind))
end }
