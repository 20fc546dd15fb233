-- For the "steal" case: holds host lk:peer's loop in one C call (a
-- backtracking string.find, where no count hook runs) for about `ms`.
local time = require("time")
return { main = function(n)
  time.sleep("50ms")
  local s = string.rep("a", tonumber(n))
  return string.find(s, ".-.-.-.-b") == nil
end }
