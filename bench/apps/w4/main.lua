-- W4: P producers x K messages to this actor. Prints messages/s, from the
-- first spawn to the last message received.
local time = require("time")

return { main = function(p, k, host, c)
  p = math.tointeger(tonumber(p)) or 4
  k = math.tointeger(tonumber(k)) or 250000
  host = host or "bench:a"
  c = math.tointeger(tonumber(c)) or 1
  local ch = process.listen("m")
  local recv, me = ch.receive, process.pid()
  local t0 = time.now()
  for _ = 1, p do assert(process.spawn("bench:producer", host, me, k, c)) end
  for _ = 1, p * k do recv(ch) end
  local s = time.now():sub(t0):nanoseconds() / 1e9
  print(string.format("FIGURE %.0f", p * k / s))
  return true
end }
