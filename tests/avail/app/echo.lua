-- Answers "ping" (payload: the PID to answer) with "pong", for ever.
return { main = function()
  local ch = process.listen("ping")
  while true do
    local to = ch:receive()
    process.send(to, "pong", true)
  end
end }
