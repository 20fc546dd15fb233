-- Links itself to every PID given, then waits.
return { main = function(pids, parent)
  for _, p in ipairs(pids) do assert(process.link(p)) end
  process.send(parent, "hub_ready")
  process.listen("never"):receive()
end }
