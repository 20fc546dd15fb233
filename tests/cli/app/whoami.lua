local security = require("security")
return { main = function()
  local a, s = security.actor(), security.scope()
  return (a and a.id or "none") .. " " .. (s and table.concat(s, ",") or "none")
end }
