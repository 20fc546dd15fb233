-- Blocks forever without ever looking at its events.
return { main = function(parent)
  if parent then process.send(parent, "blocker_ready", process.pid()) end
  process.listen("never"):receive()
end }
