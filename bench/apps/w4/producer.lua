-- Sends k integers to 'dest' on topic "m". With c > 1, c coroutines share
-- the work, so that c sends across hosts are in flight at once.
return { main = function(dest, k, c)
  local send = process.send
  c = c or 1
  if c <= 1 then
    for i = 1, k do
      if not send(dest, "m", i) then error("send refused") end
    end
    return true
  end
  local done = channel.new(c)
  local per = k // c
  for j = 1, c do
    local cnt = (j == c) and (k - per * (c - 1)) or per
    coroutine.spawn(function()
      for i = 1, cnt do
        if not send(dest, "m", i) then error("send refused") end
      end
      done:send(true)
    end)
  end
  for _ = 1, c do done:receive() end
  return true
end }
