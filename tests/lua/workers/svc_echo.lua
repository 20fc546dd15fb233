-- A supervised service: registers "svc_echo", answers "ping" and fails
-- on "crash".
return { main = function()
  process.registry.register("svc_echo")
  local ch = process.listen("ping", { message = true })
  local crash = process.listen("crash")
  while true do
    local r = channel.select({ ch:case_receive(), crash:case_receive() })
    if r.channel == crash then error("asked to crash") end
    process.send(r.value:from(), "pong", process.pid())
  end
end }
