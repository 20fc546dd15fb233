-- main(mode, n): mode "mib": n messages of 1 MiB from 4 coroutines to a
-- sink on bench:b, prints FIGURE <MB/s>. Mode "p99": n messages of 64 MiB
-- to a sink on bench:b while this process does small round trips to an
-- echo on bench:b; prints FIGURE <p50 ms> <p99 ms> <round trips>, and the
-- same unloaded first (UNLOADED ...).
local time = require("time")
local M = {}

function M.sink(main, n)
  local ch = process.inbox()
  for _ = 1, n do ch:receive() end
  process.send(main, "done", true)
end

function M.bigsender(main, sink, n)
  local big = string.rep("b", (64 << 20) - 64)
  -- Making the string holds bench:a's loop for 100-150 ms: that is not
  -- what is measured, so the pings start once it is made.
  process.send(main, "ready", true)
  for _ = 1, n do assert(process.send(sink, "m", big)) end
end

function M.echo()
  local ch = process.inbox()
  while true do
    local m = ch:receive()
    process.send(m:from(), "pong", m:payload())
  end
end

local function ms(t0) return time.now():sub(t0):nanoseconds() / 1e6 end

local function pct(v, p)
  table.sort(v)
  return v[math.max(1, math.ceil(#v * p))] or 0
end

local function pings(echo, pong, busy)
  local v = {}
  repeat
    local t0 = time.now()
    process.send(echo, "ping", 1)
    pong:receive()
    v[#v + 1] = ms(t0)
  until not busy()
  return v
end

function M.main(mode, n)
  n = math.tointeger(tonumber(n)) or 200
  local me = process.pid()
  local done = process.listen("done")
  if mode == "mib" then
    local sink = assert(process.spawn("bench:sink", "bench:b", me, n))
    local msg = string.rep("m", (1 << 20) - 64)
    local t0 = time.now()
    local left = 4
    for c = 1, 4 do
      coroutine.spawn(function()
        for _ = c, n, 4 do assert(process.send(sink, "m", msg)) end
        left = left - 1
      end)
    end
    done:receive()
    print(string.format("FIGURE %.0f", n * (1 << 20) / 1e6 / (ms(t0) / 1e3)))
    return true
  end
  local pong = process.listen("pong")
  local echo = assert(process.spawn("bench:echo", "bench:b"))
  local k = 0
  local u = pings(echo, pong, function() k = k + 1 return k < 2000 end)
  print(string.format("UNLOADED %.2f %.2f %d", pct(u, 0.5), pct(u, 0.99), #u))
  -- The big messages go from another process (a sender's own messages
  -- keep their order: its pings would wait behind them) to a sink on
  -- bench:b beside the echo.
  local sink = assert(process.spawn("bench:sink", "bench:b", me, n))
  local ready = process.listen("ready")
  assert(process.spawn("bench:bigsender", "bench:a", me, sink, n))
  ready:receive()
  local sending = true
  coroutine.spawn(function()
    done:receive()
    sending = false
  end)
  local v = pings(echo, pong, function() return sending end)
  print(string.format("FIGURE %.2f %.2f %d", pct(v, 0.5), pct(v, 0.99), #v))
  return true
end

return M
