-- A chain of N linked processes below this one (which traps links); the
-- last one fails, and the failure cascades up. Prints the time from "go"
-- to this actor's LINK_DOWN, in milliseconds.
local time = require("time")

return { main = function(n)
  n = math.tointeger(tonumber(n)) or 10000
  assert(process.set_options({ trap_links = true }))
  local ev = process.events()
  local ready = process.listen("ready")
  assert(process.spawn_linked("bench:link_node", "bench:a", process.pid(), n))
  local leaf = ready:receive()
  local t0 = time.now()
  assert(process.send(leaf, "go"))
  local e
  repeat e = ev:receive() until e.kind == process.event.LINK_DOWN
  local ms = time.now():sub(t0):nanoseconds() / 1e6
  print(string.format("FIGURE %.1f", ms))
  return true
end }
