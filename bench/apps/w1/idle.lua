-- W1 idle: N actors blocked on a receive. Prints "BASE" before spawning and
-- "READY" once they all run; bench/run.sh reads the host's VmRSS at each
-- marker and answers nothing: this actor just sleeps, then stops them.
local time = require("time")

return { main = function(n, pause)
  n = math.tointeger(tonumber(n)) or 100000
  pause = pause or "2s"
  local pids = {}
  time.sleep("200ms")
  print("BASE")
  time.sleep(pause)
  local spawn = process.spawn
  for i = 1, n do
    pids[i] = assert(spawn("bench:sleeper", "bench:a"))
  end
  time.sleep("300ms") -- let every sleeper run up to its receive
  print("READY")
  time.sleep(pause)
  local send = process.send
  for i = 1, n do send(pids[i], "stop") end
  return true
end }
