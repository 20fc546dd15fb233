-- Monitor churn across hosts: a target on av:h2 outlives 100 watchers on
-- av:h, each of which monitors it and returns. Then one round trip to the
-- target (its host has answered everything the broker sent it before).
local time = require("time")
return { main = function()
  local target = assert(process.spawn("av:echo", "av:h2"))
  local ev = process.events()
  for i = 1, 100 do
    local w = assert(process.spawn_monitored("av:watcher", "av:h", target))
    repeat
      local e = ev:receive()
    until e.kind == process.event.EXIT and e.from == w
  end
  local reply = process.listen("pong")
  assert(process.send(target, "ping", process.pid()))
  local r = channel.select({ reply:case_receive(), time.after("20s"):case_receive() })
  assert(r.channel == reply, "the target did not answer")
  return "churned"
end }
