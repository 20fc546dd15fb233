-- reg(name): registers name for itself; returns true, or the error.
return { main = function(name)
  local ok, err = process.registry.register(name)
  if ok then process.registry.unregister(name) return true end
  return tostring(err)
end }
