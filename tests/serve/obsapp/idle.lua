-- Waits (for a minute), then ends.
local time = require("time")
return { main = function() time.sleep("60s") return "idle" end }
