-- One of a linked pair across hosts: with 'twin_host', first spawns its
-- twin there, linked. Tells 'parent' it is ready, waits for "die", fails.
return { main = function(parent, twin_host)
  if twin_host then
    local p = assert(process.spawn_linked("r:duo", twin_host, parent))
    process.send(parent, "twin", p)
  end
  process.send(parent, "ready", process.pid())
  process.listen("die"):receive()
  error("die")
end }
