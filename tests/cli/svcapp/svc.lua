-- Registers "sv_svc", then answers "who" with its own actor and scope.
local security = require("security")
return { main = function()
  local ok, err = process.registry.register("sv_svc")
  if not ok then error(err) end
  local who = process.listen("who", { message = true })
  while true do
    local m = who:receive()
    local a, s = security.actor(), security.scope()
    process.send(m:from(), "me", (a and a.id or "none") .. " " ..
                 (s and table.concat(s, ",") or "none"))
  end
end }
