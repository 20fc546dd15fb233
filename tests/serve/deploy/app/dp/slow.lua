-- Answers its revision after a while: a process that runs across a deploy.
local time = require("time")
return { main = function(d) time.sleep(d or "1500ms") return "slow-v1" end }
