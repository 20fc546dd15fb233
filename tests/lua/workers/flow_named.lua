-- Registers 'name', tells 'report' ("registered", its PID), then answers
-- each "echo" with {who = its PID, v = the payload} on "reply" until
-- "stop".
return { main = function(name, report)
  assert(process.registry.register(name))
  process.send(report, "registered", process.pid())
  local echo = process.listen("echo", { message = true })
  local stop = process.listen("stop")
  while true do
    local r = channel.select({ echo:case_receive(), stop:case_receive() })
    if r.channel == stop then return true end
    process.send(r.value:from(), "reply", { who = process.pid(), v = r.value:payload() })
  end
end }
