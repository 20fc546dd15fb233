-- Traps links; spawns 'n' linked workers on host 'h' that end at once,
-- every other one failing; tells 'parent' how many LINK_DOWN it trapped,
-- then stays (its host answers each with an UNLINKED).
local time = require("time")
return { main = function(parent, h, n)
  process.set_options({ trap_links = true })
  local ev = process.events()
  local downs = 0
  for i = 1, n do
    process.spawn_linked("r:quick", h, i % 2 == 0 and "fail" or "ok", i % 3)
  end
  local deadline = time.after("5s")
  while downs < n // 2 do
    local r = channel.select({ ev:case_receive(), deadline:case_receive() })
    if r.channel == deadline then break end
    if r.value.kind == process.event.LINK_DOWN then downs = downs + 1 end
  end
  process.send(parent, "trapped", downs)
  process.listen("never"):receive()
end }
