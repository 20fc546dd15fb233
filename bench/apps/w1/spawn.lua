-- W1 spawn: N actors that each send "done" to this one and exit; the time
-- from the first spawn to the last "done". Prints spawns/s.
local time = require("time")

return { main = function(n)
  n = math.tointeger(tonumber(n)) or 100000
  local done = process.listen("done")
  local spawn, me, recv = process.spawn, process.pid(), done.receive
  local t0 = time.now()
  for _ = 1, n do
    assert(spawn("bench:quick", "bench:a", me))
  end
  for _ = 1, n do recv(done) end
  local s = time.now():sub(t0):nanoseconds() / 1e9
  print(string.format("FIGURE %.0f", n / s))
  return true
end }
