-- Ends after 'ms' milliseconds: returns 'how', or fails if it is "fail".
local time = require("time")
return { main = function(how, ms)
  if ms and ms > 0 then time.sleep(ms) end
  if how == "fail" then error("quick fail") end
  return how
end }
