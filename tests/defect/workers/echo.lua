-- Echoes every message on topic "echo" back to its sender on "reply",
-- until it receives "stop".
return { main = function()
  local ch = process.listen("echo", { message = true })
  local stop = process.listen("stop")
  while true do
    local r = channel.select({ ch:case_receive(), stop:case_receive() })
    if r.channel == stop then return "stopped" end
    local m = r.value
    process.send(m:from(), "reply", m:payload())
  end
end }
