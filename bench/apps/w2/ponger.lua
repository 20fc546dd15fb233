-- Answers each "ping" with a "pong" carrying the same payload, n times.
return { main = function(parent, n)
  local ch = process.listen("ping")
  local send, recv = process.send, ch.receive
  for _ = 1, n do
    send(parent, "pong", (recv(ch)))
  end
  return true
end }
