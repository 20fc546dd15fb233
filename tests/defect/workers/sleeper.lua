local time = require("time")
return { main = function(d) time.sleep(d or "10s") end }
