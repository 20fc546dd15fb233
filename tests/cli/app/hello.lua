return { main = function(...)
  print("printed", ...)
  return { args = select("#", ...), first = (...) }
end }
