-- The good tenant. Pings a canary on its own host and one on lk:peer
-- (through the broker) before, during and after host lk:evil attacks the
-- link, and prints what it saw:
--   pings before: 5
--   evil spawn: error: host lk:evil died: ...   ("ok <pid>" for mode none)
--   pings during: N
--   pings after: 20
--   events seen: N          (EXIT and other events lk:main received)
-- Modes "exectheft" and "exittwice" also print "exec result: ..." and
-- "monitor: ..." (see tests/link/evilhost.c); "msgflood", "msgbytes",
-- "msgsmall", "msgown" print "pings while flooded: N" and "flood
-- arrived: N" (what the sinks on lk:far took); "msgdeny" prints "evil's last message: ...".
-- Returns true when every ping was answered and lk:evil fared as `mode`
-- expects (mode "none": it lives; others: it died).
local time = require("time")

return { main = function(mode)
  local me = process.pid()
  local pongs = process.listen("pong")
  local events = process.events()
  local flooded = process.listen("flooded") -- msgdeny: lk:evil's last
  local function count_events()
    local n = 0
    while channel.select({ events:case_receive(), default = true }).channel == events do
      n = n + 1
    end
    return n
  end
  local here = assert(process.spawn("lk:canary", "lk:good"))
  local there = assert(process.spawn("lk:canary", "lk:peer"))
  local n = 0
  local function ping(pid)
    n = n + 1
    local tag = "p" .. n
    local ok, err = process.send(pid, "ping", tag)
    if not ok then error("ping " .. pid .. ": " .. tostring(err)) end
    local r = channel.select({ pongs:case_receive(), time.after("2s"):case_receive() })
    if r.channel ~= pongs then error("ping " .. pid .. ": no pong in 2s") end
    if r.value ~= tag then error("ping " .. pid .. ": wrong pong " .. tostring(r.value)) end
  end
  local function both() ping(here); ping(there) end

  for _ = 1, 5 do both() end
  print("pings before: 5")
  local started = process.listen("started")
  assert(process.spawn("lk:starter", "lk:good", me))
  local during, res = 0, nil
  local deadline = time.after("10s")
  repeat
    both()
    during = during + 1
    local r = channel.select({ started:case_receive(), deadline:case_receive(), default = true })
    if r.channel == started then
      res = r.value
    elseif r.channel == deadline then
      print("evil spawn: no answer in 10s (host lk:evil still up?)")
      print("events seen: " .. count_events())
      return false
    end
  until res
  print("evil spawn: " .. res)
  print("pings during: " .. during)

  if mode == "steal" then
    -- lk:evil answered the spawn. Hold lk:peer's loop, so that a request
    -- there stays in flight; monitor the victim (request K, which lk:evil
    -- answers late) while the helper monitors a process on lk:peer
    -- (request K+1); lk:evil answers K+1 too, a request it was never sent.
    local victim = assert(res:match("^ok (.*)$"))
    local helped = process.listen("helper")
    assert(process.spawn("lk:hog", "lk:peer", 110))
    time.sleep("120ms")
    assert(process.spawn("lk:helper", "lk:good", me, there, "30ms"))
    local ok, err = process.monitor(victim)
    print("monitor of the victim: " .. tostring(ok or err))
    local r = channel.select({ helped:case_receive(), time.after("5s"):case_receive() })
    print("helper's request to lk:peer: " .. (r.channel == helped and r.value or "never answered"))
    -- The innocent host must still serve.
    for _ = 1, 20 do both() end
    print("pings after: 20")
    return r.channel == helped
  end

  if mode == "exectheft" then
    -- lk:main waits in process.exec for a child on lk:peer, whose spawn
    -- reply is held up (lk:peer's loop is busy); meanwhile lk:evil sends
    -- lk:main an exec result of its own.
    local victim = assert(res:match("^ok (.*)$"))
    assert(process.spawn("lk:hog", "lk:peer", 130))
    time.sleep("120ms")
    assert(process.spawn("lk:helper", "lk:good", me, victim, "30ms"))
    local v, err = process.exec("lk:answer", "lk:peer")
    print("exec result: " .. tostring(v or err))
    for _ = 1, 20 do both() end
    print("pings after: 20")
    print("events seen: " .. count_events())
    return v == "real"
  end
  if mode == "exittwice" then
    -- lk:main monitors lk:evil's process; lk:evil sends its EXIT twice.
    local victim = assert(res:match("^ok (.*)$"))
    local ok, err = process.monitor(victim)
    print("monitor: " .. tostring(ok or err))
    time.sleep("300ms")
    for _ = 1, 20 do both() end
    print("pings after: 20")
    print("events seen: " .. count_events())
    return true
  end

  if mode == "msgflood" or mode == "msgbytes" or mode == "msgsmall" or
     mode == "msgown" then
    -- lk:evil answered the spawn. Sinks on lk:far say hello to its
    -- process, then read nothing for 3 s while lk:evil floods them past
    -- its credit; the good tenant's pings go on meanwhile.
    local victim = assert(res:match("^ok (.*)$"))
    local sunk = process.listen("sunk")
    local nsinks = mode == "msgbytes" and 2 or mode == "msgsmall" and 4 or
                   mode == "msgown" and 40 or 1
    for _ = 1, nsinks do
      assert(process.spawn("lk:sink", "lk:far", me, victim, "3s"))
    end
    local got, total, pings = 0, 0, 0
    local deadline = time.after("60s")
    while got < nsinks do
      both()
      pings = pings + 1
      local r = channel.select({ sunk:case_receive(), deadline:case_receive(),
                                 time.after("20ms"):case_receive() })
      if r.channel == sunk then
        got, total = got + 1, total + r.value
      elseif r.channel == deadline then
        print("sinks: no answer in 60s")
        return false
      end
    end
    print("pings while flooded: " .. pings)
    print("flood arrived: " .. total)
  elseif mode == "msgdeny" then
    -- lk:evil sends refused messages (to this process), then one more.
    local last = flooded
    local deadline = time.after("60s")
    local r
    repeat
      both()
      r = channel.select({ last:case_receive(), deadline:case_receive(),
                           time.after("20ms"):case_receive() })
    until r.channel == last or r.channel == deadline
    print("evil's last message: " .. (r.channel == last and "arrived" or "never came"))
  end

  for _ = 1, 20 do both() end
  print("pings after: 20")
  print("events seen: " .. count_events())
  if mode == "msgdeny" then return res:sub(1, 3) == "ok " end
  if mode == "msgflood" or mode == "msgbytes" or mode == "msgsmall" or
     mode == "msgown" then
    return true
  end
  if mode == "none" then return res:sub(1, 3) == "ok " end
  return res:find("host lk:evil died", 1, true) ~= nil
end }
