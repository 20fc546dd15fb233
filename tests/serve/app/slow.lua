-- Sleeps for the duration it is given, then answers "slept".
local time = require("time")
return { main = function(d) time.sleep(d or "2s") return "slept" end }
