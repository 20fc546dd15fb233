-- Answers every "ping" with a "pong" carrying the same payload.
return { main = function()
  local ch = process.listen("ping", { message = true })
  while true do
    local m = ch:receive()
    process.send(m:from(), "pong", m:payload())
  end
end }
