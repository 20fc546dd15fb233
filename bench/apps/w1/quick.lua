-- Tells its parent it ran, and exits.
return { main = function(parent)
  process.send(parent, "done", true)
end }
