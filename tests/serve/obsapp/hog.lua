-- Uses memory and CPU, then waits with N messages to itself unread: the
-- busiest process by each measure.
local time = require("time")
return { main = function(n)
  local t, x = {}, 0
  for i = 1, 200000 do t[i] = i end
  for i = 1, 20000000 do x = x + i end
  for i = 1, n or 0 do process.send(process.pid(), "t", i) end
  time.sleep("60s")
  return #t + x
end }
