-- Monitors and links (trapping) a process on host cli:h2, says "ready",
-- and reports what it hears when that host dies.
local time = require("time")
return { main = function()
  process.set_options({ trap_links = true })
  local ev = process.events()
  local pid = assert(process.spawn_monitored("cli:sink", "cli:h2"))
  assert(process.link(pid))
  print("ready")
  local got = {}
  local deadline = time.after("5s")
  while #got < 2 do
    local r = channel.select({ ev:case_receive(), deadline:case_receive() })
    if r.channel ~= ev then break end
    got[#got + 1] = r.value.kind .. ": " .. tostring(r.value.result.error)
  end
  table.sort(got)
  return table.concat(got, " | ")
end }
