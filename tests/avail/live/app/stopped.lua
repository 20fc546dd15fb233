-- Host lv:victim is stopped (SIGSTOP) by the test once this prints
-- "ready". A sender and a spawner keep one request each in flight to it
-- all along, so each has one waiting when it stops: both must fail, the
-- monitor of a process there must get EXIT, and the other hosts carry on.
return { main = function()
  local ev = process.events()
  local s = assert(process.spawn_monitored("lv:sleeper", "lv:victim"))
  local res = channel.new(2)
  coroutine.spawn(function()
    local i = 0
    while true do
      local ok, err = process.send(s, "ping", i)
      if not ok then
        res:send("send failed: " .. err:kind() .. ": " .. tostring(err))
        return
      end
      i = i + 1
    end
  end)
  coroutine.spawn(function()
    while true do
      local p, err = process.spawn("lv:quick", "lv:victim", 1)
      if not p then
        res:send("spawn failed: " .. err:kind() .. ": " .. tostring(err))
        return
      end
    end
  end)
  print("ready")
  print((res:receive()))
  print((res:receive()))
  while true do
    local e = ev:receive()
    if e.kind == process.event.EXIT and e.from == s then
      print("monitor: EXIT: " .. tostring(e.result.error))
      break
    end
  end
  print("other host: " .. tostring(process.exec("lv:quick", "lv:other", "fine")))
  return "done"
end }
