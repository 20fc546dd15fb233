-- Host lv:slowpoke (request_timeout 1s, liveness 60s) is stopped by the
-- test once this prints "ready", and continued once this prints the
-- send's error. Its late answers must be dropped, not taken for forgeries:
-- the host lives on and answers again.
return { main = function()
  local ev = process.events()
  local s = assert(process.spawn_monitored("lv:sleeper", "lv:slowpoke"))
  assert(process.send(s, "ping", 0))
  print("ready")
  local i = 1
  while true do
    local ok, err = process.send(s, "ping", i)
    if not ok then
      print("send failed: " .. err:kind() .. ": " .. tostring(err))
      break
    end
    i = i + 1
  end
  -- Until the test continues the host, sends keep timing out.
  local failed = 0
  while not process.send(s, "ping", i) do failed = failed + 1 end
  print("answered again")
  print("exec: " .. tostring(process.exec("lv:quick", "lv:slowpoke", "fine")))
  -- The sleeper is still there: cancel it and hear it end.
  assert(process.terminate(s))
  while true do
    local e = ev:receive()
    if e.kind == process.event.EXIT and e.from == s then
      print("sleeper: " .. tostring(e.result.error))
      break
    end
  end
  return "done"
end }
