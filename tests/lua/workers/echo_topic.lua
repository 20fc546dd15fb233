-- Echoes every message on the topic given in its first argument back to
-- its sender on "reply", with its length, until it receives "stop".
return { main = function(topic)
  local ch = process.listen(topic, { message = true })
  local stop = process.listen("stop")
  while true do
    local r = channel.select({ ch:case_receive(), stop:case_receive() })
    if r.channel == stop then return "stopped" end
    local m = r.value
    process.send(m:from(), "reply", #m:payload())
  end
end }
