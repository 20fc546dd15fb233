local time = require("time")
return { main = function(d) time.sleep(d or "1500ms") return "slow-v2" end }
