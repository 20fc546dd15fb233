-- Finds sv_svc (auto-started) and returns "<own actor scope> / <its>".
local security = require("security")
local time = require("time")
return { main = function()
  local pid
  for _ = 1, 150 do
    pid = process.registry.lookup("sv_svc")
    if pid then break end
    time.sleep("10ms")
  end
  if not pid then return nil, "sv_svc never registered" end
  local me = process.listen("me")
  process.send(pid, "who")
  local r = channel.select({ me:case_receive(), time.after("2s"):case_receive() })
  if r.channel ~= me then return nil, "sv_svc did not answer" end
  local a, s = security.actor(), security.scope()
  return (a and a.id or "none") .. " " ..
         (s and table.concat(s, ",") or "none") .. " / " .. r.value
end }
