-- A service that always fails: each start reports to "flaky_watch" (once
-- that name exists) and raises.
local time = require("time")
return { main = function()
  for _ = 1, 6000 do
    if process.send("flaky_watch", "started", process.pid()) then break end
    time.sleep("10ms")
  end
  error("flaky service fails")
end }
