-- Sends its arguments back to the PID given first, on topic "args".
return { main = function(parent, ...)
  process.send(parent, "args", { n = select("#", ...), ... })
end }
