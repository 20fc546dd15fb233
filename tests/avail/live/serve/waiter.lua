-- Looks a name up (a decision for the audit log), then waits for CANCEL.
return { main = function()
  local ev = process.events()
  process.registry.lookup("nobody")
  while true do
    local e = ev:receive()
    if e.kind == process.event.CANCEL then return "cancelled" end
  end
end }
