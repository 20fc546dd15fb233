local check = require("check")

local function roundtrip(host)
  local inbox = process.inbox()
  local pid = check.ok(process.spawn("t:echo", host))
  local payload = { n = 1, f = 1.5, s = "x", list = { 1, 2, 3 }, b = false }
  payload.self = payload
  check.eq(process.send(pid, "echo", payload), true, "send")
  local m = check.recv(inbox, "2s", host .. " reply")
  check.eq(m:topic(), "reply", "topic")
  check.eq(m:from(), pid, "from")
  local p = m:payload()
  check.eq(p.n, 1, "int")
  check.eq(math.type(p.n), "integer", "int stays int")
  check.eq(p.f, 1.5, "float")
  check.eq(math.type(p.f), "float", "float stays float")
  check.eq(p.s, "x", "string")
  check.eq(p.list[3], 3, "list")
  check.eq(p.b, false, "false")
  check.eq(p.self, p, "cycle kept")
  check.ok(p ~= payload, "deep copy")
  -- Several payload values arrive as one array.
  process.send(pid, "echo", "a", 2)
  m = check.recv(inbox, "2s")
  local v = m:payload()
  check.eq(v[1], "a", "multi 1")
  check.eq(v[2], 2, "multi 2")
  -- Zero payload values: nil.
  process.send(pid, "echo")
  m = check.recv(inbox, "2s")
  check.eq(m:payload(), nil, "no payload")
  -- Order from one sender is kept.
  for i = 1, 50 do process.send(pid, "echo", i) end
  for i = 1, 50 do check.eq(check.recv(inbox, "2s"):payload(), i, "order") end
  process.send(pid, "stop")
  return pid
end

return { main = function()
  roundtrip("t:a")
  roundtrip("t:b")
  -- Errors.
  local ok, err = process.send(process.pid())
  check.fails(errors.INVALID, ok, err, "missing topic")
  check.fails(errors.INVALID, process.send(process.pid(), "@inbox", 1))
  check.fails(errors.INVALID, process.send(process.pid(), "", 1))
  check.fails(errors.INVALID, process.send(process.pid(), "t", function() end))
  check.fails(errors.INVALID, process.send(process.pid(), "t", { coroutine.create(print) }))
  check.fails(errors.INVALID, process.send(process.pid(), "t", channel.new()))
  -- Dead and unknown targets: NOT_FOUND, on this host and the other.
  -- (Across hosts a host knows a PID is dead from its exit event, as
  -- here, or once it has talked to it: test_flow.)
  local ev = process.events()
  for _, host in ipairs({ "t:a", "t:b" }) do
    local dead = process.spawn_monitored("t:exit_now", host)
    check.event(ev, process.event.EXIT, dead, "60s", "exit_now on " .. host)
    local ok2, err2 = process.send(dead, "x", 1)
    check.fails(errors.NOT_FOUND, ok2, err2, "send to a dead pid on " .. host)
  end
  check.fails(errors.NOT_FOUND, process.send("{t:a|0xfffff}", "x"))
  check.fails(errors.NOT_FOUND, process.send("{nohost|0x00001}", "x"))
  check.fails(errors.NOT_FOUND, process.send("no-such-name", "x"))
  err = check.fails(errors.NOT_FOUND, process.send("{t:a|zz}", "x"))
  check.ok(tostring(err):find("could not resolve", 1, true), tostring(err))
  -- Sending to yourself works.
  local inbox = process.inbox()
  check.eq(process.send(process.pid(), "self", 7), true)
  check.eq(check.recv(inbox):payload(), 7, "self send")
  return true
end }
