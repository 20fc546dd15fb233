-- Wait long enough for the test to read /proc/<host>/status, then end.
local time = require("time")
return { main = function(d) time.sleep(d or "2s") return true end }
