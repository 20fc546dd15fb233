-- Monitors the given process, then returns at once.
return { main = function(target)
  assert(process.monitor(target))
  return true
end }
