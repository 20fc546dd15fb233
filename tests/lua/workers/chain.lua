-- A link in a chain: spawns the next one linked (alternating hosts), the
-- last one waits for "fail" and raises. Nobody traps links.
return { main = function(depth, hosts, parent)
  if depth > 1 then
    local h = hosts[(depth % #hosts) + 1]
    local pid, err = process.spawn_linked("t:chain", h, depth - 1, hosts, parent)
    if not pid then error(err) end
  else
    process.send(parent, "leaf", process.pid())
    process.listen("fail"):receive()
    error("leaf failed")
  end
  process.listen("never"):receive()
end }
