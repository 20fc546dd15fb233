-- N times: spawn_monitored a child that exits at once, wait for its EXIT
-- event. Prints round trips/s. Arg 2: the host of the children.
local time = require("time")

return { main = function(n, host)
  n = math.tointeger(tonumber(n)) or 100000
  host = host or "bench:a"
  local ev = process.events()
  local EXIT = process.event.EXIT
  local spawn, recv = process.spawn_monitored, ev.receive
  local t0 = time.now()
  for _ = 1, n do
    local pid = assert(spawn("bench:exit_now", host))
    local e
    repeat e = recv(ev) until e.kind == EXIT and e.from == pid
  end
  local s = time.now():sub(t0):nanoseconds() / 1e9
  print(string.format("FIGURE %.0f", n / s))
  return true
end }
