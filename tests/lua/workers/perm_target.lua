-- test_permissions: the target of a probe's call. Optionally registers
-- `name`, says it is ready, then reports to the test everything that
-- reaches it: messages on "poke", its events (CANCEL, LINK_DOWN, EXIT),
-- and answers "ping" with a "pong", until "quit".
return { main = function(test, tag, name)
  process.set_options({ trap_links = true })
  local ev = process.events()
  local poke = process.listen("poke", { message = true })
  local ping = process.listen("ping")
  local quit = process.listen("quit")
  if name then assert(process.registry.register(name)) end
  process.send(test, "perm", { tag = tag, what = "ready", pid = process.pid() })
  while true do
    local r = channel.select({ poke:case_receive(), ping:case_receive(),
                               ev:case_receive(), quit:case_receive() })
    if r.channel == quit then return "quit" end
    if r.channel == poke then
      process.send(test, "perm", { tag = tag, what = "poke",
                                   payload = r.value:payload(), from = r.value:from() })
    elseif r.channel == ping then
      process.send(test, "perm", { tag = tag, what = "pong" })
    else
      process.send(test, "perm", { tag = tag, what = "tevent",
                                   kind = r.value.kind, from = r.value.from })
    end
  end
end }
