-- Monitors 'who', says "ready" to 'report', and reads only its events
-- until the EXIT of 'who'; then takes what is on "w" without waiting and
-- tells 'report' ("drained") the payloads, in order. Messages on "junk"
-- are never read: they keep the mailbox full.
return { main = function(report, who)
  local w = process.listen("w")
  process.listen("junk")
  local ev = process.events()
  assert(process.monitor(who))
  process.send(report, "ready", process.pid())
  while true do
    local e = ev:receive()
    if e.kind == process.event.EXIT and e.from == who then break end
  end
  local got = {}
  while true do
    local r = channel.select({ w:case_receive() }, true)
    if r.default then break end
    got[#got + 1] = r.value
  end
  process.send(report, "drained", got)
  local time = require("time")
  time.sleep("600s")
end }
