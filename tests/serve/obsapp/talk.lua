-- Sends itself N messages, then takes them: N out, N in.
return { main = function(n)
  local me, inbox = process.pid(), process.inbox()
  for i = 1, n do process.send(me, "t", i) end
  for _ = 1, n do inbox:receive() end
  return n
end }
