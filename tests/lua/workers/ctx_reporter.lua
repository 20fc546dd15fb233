-- Reports its context, actor and scope, and any queued messages; spawns a
-- grandchild with a plain spawn when asked.
local ctx = require("ctx")
local security = require("security")
return { main = function(parent, grandchild_host)
  local inbox = process.inbox()
  local got = {}
  local time = require("time")
  while true do
    local r = channel.select({ inbox:case_receive(), time.after("30ms"):case_receive() })
    if r.channel ~= inbox then break end
    got[#got + 1] = { topic = r.value:topic(), payload = r.value:payload(), from = r.value:from() }
  end
  local a, s = security.actor(), security.scope()
  process.send(parent, "ctx_report", {
    request_id = ctx.get("request_id"), all = ctx.all(), msgs = got,
    actor = a and a.id, scope = s and table.concat(s, ","),
  })
  if grandchild_host then process.spawn("t:ctx_reporter", grandchild_host, parent) end
  process.listen("never"):receive()
end }
