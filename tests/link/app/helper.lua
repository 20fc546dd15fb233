-- After `wait`, one message to `dest` (what "exectheft" waits for), then
-- one request carried to its host (a monitor, what "steal" answers
-- although it was never sent it); tells `main_pid` how the request went,
-- or nothing if it never returns.
local time = require("time")
return { main = function(main_pid, dest, wait)
  time.sleep(wait)
  process.send(dest, "ping", "helper")
  local ok, err = process.monitor(dest)
  process.send(main_pid, "helper", ok and "answered" or ("error: " .. tostring(err)))
end }
