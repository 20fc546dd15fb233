-- Sends to a process on lv:brisk (liveness 1s, request_timeout 1s) all
-- along, while the test stops the broker itself for longer than that, then
-- SIGTERMs it: the hosts answered in time (their answers waited to be
-- read), so no send may fail and no host may be killed.
return { main = function()
  local ev = process.events()
  local s = assert(process.spawn("lv:sleeper", "lv:brisk"))
  local sent, failed = 0, {}
  coroutine.spawn(function()
    while true do
      local ok, err = process.send(s, "ping", sent)
      if ok then sent = sent + 1 else failed[#failed + 1] = tostring(err) end
    end
  end)
  print("ready")
  while true do
    local e = ev:receive()
    if e.kind == process.event.CANCEL then break end
  end
  print("sends failed before CANCEL: " .. #failed .. " " .. (failed[1] or ""))
  return sent > 0
end }
