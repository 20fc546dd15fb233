local check = require("check")
local time = require("time")

return { main = function()
  -- Plain coroutines work, also when they block on ward calls inside.
  local co = coroutine.create(function(a)
    local b = coroutine.yield(a + 1)
    time.sleep("1ms") -- a ward yield passes through the user coroutine
    local ch = channel.new(1)
    ch:send(b * 2)
    return ch:receive()
  end)
  local ok, v = coroutine.resume(co, 1)
  check.eq(ok, true)
  check.eq(v, 2)
  ok, v = coroutine.resume(co, 10)
  check.eq(ok, true)
  check.eq(v, 20, "blocking calls inside plain coroutines")
  check.eq(coroutine.status(co), "dead")
  local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
  check.eq(gen() + gen() + gen(), 6, "wrap")
  local bad = coroutine.wrap(function() error("inner") end)
  local okw, e = pcall(bad)
  check.eq(okw, false)
  check.ok(tostring(e):find("inner", 1, true))
  -- pcall across a yield.
  local okp, r = pcall(function() time.sleep("1ms") return "after" end)
  check.eq(okp, true)
  check.eq(r, "after")
  -- coroutine.spawn runs concurrently with main.
  local ch = channel.new()
  coroutine.spawn(function(x) ch:send(x * 3) end, 7)
  check.eq(ch:receive(), 21)
  -- A busy coroutine does not starve the others (preemption).
  local flag = channel.new(1)
  coroutine.spawn(function() local n = 0 while true do n = n + 1 end end)
  coroutine.spawn(function() flag:send("ran") end)
  check.eq(check.recv(flag, "5s", "other coroutine"), "ran")
  return true
end }
