-- test_registry_oracle: holds the names it is given, says it is ready,
-- then reports to the test everything that reaches it (any message, any
-- event: CANCEL, LINK_DOWN, EXIT) until "quit". Nothing may reach it: the
-- probes only call it by names they may not look up (the test sends it
-- one message on "warm", which it leaves unread).
return { main = function(test, names)
  process.set_options({ trap_links = true })
  for _, n in ipairs(names) do assert(process.registry.register(n)) end
  local inbox = process.inbox()
  local ev = process.events()
  local quit = process.listen("quit")
  process.listen("warm") -- the test's own sends by name, never read
  process.send(test, "oracle", { what = "ready", pid = process.pid() })
  while true do
    local r = channel.select({ inbox:case_receive(), ev:case_receive(), quit:case_receive() })
    if r.channel == quit then return "quit" end
    if r.channel == inbox then
      process.send(test, "oracle", { what = "reached", holder = process.pid(),
                                     detail = "message on " .. tostring(r.value:topic()) })
    else
      process.send(test, "oracle", { what = "reached", holder = process.pid(),
                                     detail = "event " .. tostring(r.value.kind) })
    end
  end
end }
