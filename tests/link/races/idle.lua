-- Registers 'name' if given, waits for "stop"; fails if its payload is
-- "fail".
return { main = function(name)
  if name then process.registry.register(name) end
  local m = process.listen("stop"):receive()
  if m == "fail" then error("asked to fail") end
  return true
end }
