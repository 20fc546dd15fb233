-- Squares one number and sends it back to the dispatcher.
return { main = function()
  local ch = process.listen("square", { message = true })
  local m = ch:receive()
  process.send(m:from(), "reply", m:payload() * m:payload())
end }
