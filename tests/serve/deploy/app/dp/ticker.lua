-- A service: says which revision it runs, then waits until it is stopped.
local time = require("time")
return { main = function() print("ticker v1") while true do time.sleep("50ms") end end }
