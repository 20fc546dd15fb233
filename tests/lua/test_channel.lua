local check = require("check")
local time = require("time")

return { main = function()
  -- Buffered.
  local ch = channel.new(2)
  check.eq(ch:send(1), true)
  check.eq(ch:send(2), true)
  local r = channel.select({ ch:case_send(3), default = true })
  check.eq(r.default, true, "full buffer takes the default")
  check.eq(ch:receive(), 1)
  check.eq(ch:receive(), 2)
  -- Unbuffered rendezvous between coroutines.
  local u = channel.new()
  coroutine.spawn(function() u:send("hi") end)
  local v, ok = u:receive()
  check.eq(v, "hi")
  check.eq(ok, true)
  local done = channel.new()
  coroutine.spawn(function() done:send(u:receive()) end)
  u:send("there")
  check.eq(done:receive(), "there", "send blocks until received")
  -- Close: buffered values stay receivable, then nil, false.
  local c = channel.new(3)
  c:send("a")
  c:close()
  c:close() -- no-op
  check.eq(c:receive(), "a")
  v, ok = c:receive()
  check.eq(v, nil)
  check.eq(ok, false)
  check.ok(not pcall(c.send, c, 1), "send on closed raises")
  -- Blocked receivers see the close.
  local w = channel.new()
  local res = channel.new(1)
  coroutine.spawn(function() local x, o = w:receive() res:send(o) end)
  time.sleep("1ms")
  w:close()
  check.eq(res:receive(), false, "woken by close")
  -- Select: first ready case wins, in order.
  local a, b = channel.new(1), channel.new(1)
  a:send("A")
  b:send("B")
  r = channel.select({ b:case_receive(), a:case_receive() })
  check.eq(r.channel, b, "first ready case")
  check.eq(r.value, "B")
  check.eq(r.ok, true)
  r = channel.select({ a:case_receive(), b:case_receive() })
  check.eq(r.channel, a)
  -- A closed channel beats the default.
  local cl = channel.new()
  cl:close()
  r = channel.select({ cl:case_receive() }, true)
  check.eq(r.channel, cl)
  check.eq(r.ok, false)
  -- Nothing ready, no default: blocks until a coroutine sends.
  local s = channel.new()
  coroutine.spawn(function() time.sleep("5ms") s:send(9) end)
  r = channel.select({ s:case_receive(), time.after("2s"):case_receive() })
  check.eq(r.channel, s)
  check.eq(r.value, 9)
  -- case_send completes when a receiver arrives.
  local t = channel.new()
  coroutine.spawn(function() time.sleep("5ms") check.eq(t:receive(), "sent") end)
  r = channel.select({ t:case_send("sent") })
  check.eq(r.channel, t)
  check.eq(r.ok, true)
  -- Many coroutines.
  local sum = channel.new(100)
  for i = 1, 100 do coroutine.spawn(function() sum:send(i) end) end
  local total = 0
  for _ = 1, 100 do total = total + sum:receive() end
  check.eq(total, 5050)
  return true
end }
