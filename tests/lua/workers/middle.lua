-- Links to a child that fails; without trap_links the failure ends it too.
return { main = function(host, trap)
  if trap then process.set_options({ trap_links = true }) end
  local ev = process.events()
  process.spawn_linked("t:error_exit", host, "child failed")
  local e = ev:receive()
  return e.kind
end }
