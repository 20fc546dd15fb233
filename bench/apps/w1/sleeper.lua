-- An idle actor: blocks until told to stop.
return { main = function()
  process.listen("stop"):receive()
end }
