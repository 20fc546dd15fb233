-- Fills 'sink' (10 messages, its mailbox), then starts 'n' tasks that
-- each send it 1,000,000 bytes (the sink never reads) and tells 'report'
-- ("hoard") how the sends ended: "timeout" (waited, then send_timeout),
-- "at once" (refused without waiting), "ok" or another error.
return { main = function(sink, n, report)
  for i = 1, 10 do assert(process.send(sink, "f", i)) end
  local blob = string.rep("z", 1000000) -- one string, shared by the tasks
  local done = channel.new(n)
  for _ = 1, n do
    coroutine.spawn(function()
      local ok, err = process.send(sink, "f", blob)
      local m = err and tostring(err) or ""
      done:send(ok and "ok" or m:find("send_timeout", 1, true) and "timeout"
                or m:find("memory", 1, true) and "at once" or m)
    end)
  end
  local out = {}
  for _ = 1, n do
    local k = done:receive()
    out[k] = (out[k] or 0) + 1
  end
  process.send(report, "hoard", out)
end }
