-- Registers as "witness", tells its parent, then waits for ever.
return { main = function(parent)
  assert(process.registry.register("witness"))
  process.send(parent, "ready", true)
  process.inbox():receive()
end }
