-- Registers `name`, tells the parent, then waits for "quit".
return { main = function(parent, name)
  local ok, err = process.registry.register(name)
  process.send(parent, "registered", ok == true, err and err:kind() or nil)
  process.listen("quit"):receive()
  return "done"
end }
