-- For the "steal" case: after `wait`, one send to `dest` through the
-- broker; tells `main_pid` how it went, or nothing if it never returns.
local time = require("time")
return { main = function(main_pid, dest, wait)
  time.sleep(wait)
  local ok, err = process.send(dest, "ping", "helper")
  process.send(main_pid, "helper", ok and "sent" or ("error: " .. tostring(err)))
end }
