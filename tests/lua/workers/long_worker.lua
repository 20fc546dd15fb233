-- Waits for CANCEL on its events and returns "cancelled" (or, given a
-- parent, reports the CANCEL event first).
return { main = function(parent)
  local ev = process.events()
  if parent then process.send(parent, "long_ready", process.pid()) end
  while true do
    local e = ev:receive()
    if e.kind == process.event.CANCEL then
      if parent then process.send(parent, "cancel_event", e) end
      return "cancelled"
    end
  end
end }
