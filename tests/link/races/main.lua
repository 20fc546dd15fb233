-- Honest races with the broker's event checks, across hosts r:a and r:b.
-- Prints one line per scenario (S1 .. S8); returns true.
local time = require("time")

return { main = function()
  local me = process.pid()
  local ev = process.events()
  process.set_options({ trap_links = true })
  local function drain()
    while channel.select({ ev:case_receive(), default = true }).channel == ev do end
  end

  -- S1: a linked pair across hosts fails at once: both LINK_DOWN cross.
  local ready, twin = process.listen("ready"), process.listen("twin")
  for _ = 1, 100 do
    local x = assert(process.spawn_monitored("r:duo", "r:a", me, "r:b"))
    local y = twin:receive()
    ready:receive(); ready:receive()
    assert(process.monitor(y))
    process.send(x, "die", 1); process.send(y, "die", 1)
    local seen = 0
    while seen < 2 do
      local e = ev:receive()
      if e.kind == process.event.EXIT and (e.from == x or e.from == y) then seen = seen + 1 end
    end
  end
  print("S1 pairs: 100")

  -- S2: a trapping process on each host, linked to workers on the other.
  local tr = process.listen("trapped")
  assert(process.spawn("r:trapper", "r:b", me, "r:a", 200))
  assert(process.spawn("r:trapper", "r:a", me, "r:b", 200))
  print("S2 trapped: " .. tr:receive() + tr:receive())

  -- S3: unmonitor racing the target's exit.
  for i = 1, 200 do
    local c = assert(process.spawn("r:quick", "r:b", "ok", i % 3))
    process.monitor(c)
    if i % 2 == 0 then time.sleep(i % 3) end
    process.unmonitor(c)
  end
  print("S3 unmonitors: 200")

  -- S4: unlink racing the target's failure.
  for i = 1, 200 do
    local c = assert(process.spawn_linked("r:quick", "r:b", "fail", i % 3))
    if i % 2 == 0 then time.sleep(i % 3) end
    process.unlink(c)
  end
  print("S4 unlinks: 200")

  -- S5: execs from each host to the other, several at once.
  local ex = process.listen("execs")
  for _ = 1, 3 do
    process.spawn("r:execer", "r:a", me, "r:b", 40)
    process.spawn("r:execer", "r:b", me, "r:a", 40)
  end
  local execs = 0
  for _ = 1, 6 do execs = execs + ex:receive() end
  print("S5 execs: " .. execs)

  -- S6: watchers that end before their target does.
  local target = assert(process.spawn("r:idle", "r:b"))
  for _ = 1, 50 do assert(process.exec("r:watcher", "r:a", target)) end
  process.send(target, "stop", "fail")
  time.sleep("100ms")
  print("S6 watchers: 50")

  -- S7: link and unlink by name; links made from both sides.
  for i = 1, 50 do
    local nm = "idle" .. i
    local p = assert(process.spawn("r:idle", "r:b", nm))
    time.sleep(5)
    assert(process.link(nm))
    if i % 2 == 0 then assert(process.unlink(nm)) end
    if i % 3 == 0 then assert(process.link(p)) end
    process.send(p, "stop", i % 4 == 0 and "fail" or "ok")
  end
  time.sleep("200ms")
  print("S7 named: 50")

  -- S8: 600 processes both linked and monitored (the broker's table
  -- grows), then all their events at once.
  drain()
  local ps = {}
  for i = 1, 600 do
    ps[i] = assert(process.spawn_linked("r:idle", "r:b"))
    assert(process.monitor(ps[i]))
  end
  for i = 1, 600 do process.send(ps[i], "stop", i % 2 == 0 and "fail" or "ok") end
  local exits, downs = 0, 0
  local deadline = time.after("10s")
  while exits < 600 or downs < 300 do
    local r = channel.select({ ev:case_receive(), deadline:case_receive() })
    if r.channel == deadline then break end
    if r.value.kind == process.event.EXIT then exits = exits + 1 else downs = downs + 1 end
  end
  print("S8 exits: " .. exits .. ", link downs: " .. downs)
  return true
end }
