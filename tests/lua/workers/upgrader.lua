-- Registers a name, waits for "go", then upgrades to t:upgraded.
return { main = function(parent, name)
  process.registry.register(name)
  process.send(parent, "up_ready", process.pid())
  local state = process.listen("go"):receive()
  process.upgrade("t:upgraded", parent, state)
  error("upgrade returned")
end }
