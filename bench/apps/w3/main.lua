-- W3: a ring of N actors, the token around M times. Prints hops/s.
local time = require("time")

return { main = function(n, m)
  n = math.tointeger(tonumber(n)) or 1000
  m = math.tointeger(tonumber(m)) or 1000
  local done = process.listen("done")
  local me, pids = process.pid(), {}
  for i = 1, n do pids[i] = assert(process.spawn("bench:node", "bench:a", me, n)) end
  for i = 1, n do process.send(pids[i], "next", pids[i % n + 1]) end
  local hops = n * m
  local t0 = time.now()
  process.send(pids[1], "t", hops)
  done:receive()
  local s = time.now():sub(t0):nanoseconds() / 1e9
  print(string.format("FIGURE %.0f", hops / s))
  return true
end }
