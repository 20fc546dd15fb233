-- The victim's echo: answers each "ping" to 'peer' with a "pong" carrying
-- the same payload, until shutdown.
return { main = function(peer)
  local ch = process.listen("ping")
  local send, recv = process.send, ch.receive
  while true do
    send(peer, "pong", (recv(ch)))
  end
end }
