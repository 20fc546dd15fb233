-- W2: N round trips between this actor and a ponger; prints round trips/s.
local time = require("time")

return { main = function(n, host, kind)
  n = math.tointeger(tonumber(n)) or 1000000
  host = host or "bench:a"
  local ch = process.listen("pong")
  local pid = assert(process.spawn("bench:ponger", host, process.pid(), n))
  local send, recv = process.send, ch.receive
  local t0 = time.now()
  if kind == "table" then
    for i = 1, n do
      send(pid, "ping", { seq = i, tag = "ping", xs = { 1, 2, 3 } })
      recv(ch)
    end
  else
    for i = 1, n do
      send(pid, "ping", i)
      recv(ch)
    end
  end
  local s = time.now():sub(t0):nanoseconds() / 1e9
  print(string.format("FIGURE %.0f", n / s))
  return true
end }
