-- The victim tenant (actor 'victim', group fault:victim): the traffic the
-- suite reconciles. Every process reports its counts as its result, read
-- by the harness from its EXIT.
local C = require("common")

local M = {}

-- {====== Numbered traffic to a receiver on another host ======

-- Sends 1, 2, 3, ... ("m") to a receiver it spawns, monitored, on 'host',
-- until the harness says "fin" (topic "ctl"). A number is used again after
-- a refused send, so the receiver can check that what arrives is exactly
-- the accepted sends, in order. When the receiver's host dies the sends it
-- accepted are lost, and its EXIT must say so: they are counted as lost
-- once that EXIT came, and a new receiver takes over. Tells the harness
-- (topic "note") when traffic runs and when a send failed or a receiver
-- died.
function M.producer(harness, tag, host, guard)
  local P = C.pump()
  local ctl = process.listen("ctl")
  local acks = process.listen("ack")
  local me = process.pid()
  local s = { accepted = 0, received = 0, lost = 0, refused = 0, deaths = 0,
              notified = 0, unnotified = 0, bad = 0, mismatch = 0,
              spawnfail = 0, receivers = 0, acked_before_death = 0,
              refused_kinds = {}, other_exit = 0 }
  local seq, cur, fin = 0, nil, false
  local running_told = false
  local function note(ev, extra)
    process.send(harness, "note", { tag = tag, ev = ev, extra = extra })
  end
  local function start()
    while not fin do
      local pid, err = process.spawn_monitored("fault:v_receiver", host, me,
                                               seq + 1)
      if pid then
        cur = { pid = pid, ch = P.watch(pid), acc = 0, ack = 0 }
        s.receivers = s.receivers + 1
        return
      end
      s.spawnfail = s.spawnfail + 1
      if C.recv(ctl, 0.05) == "fin" then fin = true end
    end
  end
  -- The receiver ended: count what it took, by how it ended.
  local function ended(e, fin_sent)
    P.forget(cur.pid)
    if e.kind ~= process.event.EXIT then
      s.bad = s.bad + 1
    elseif C.host_died(e) then
      s.deaths = s.deaths + 1
      s.notified = s.notified + 1
      s.lost = s.lost + cur.acc
      s.acked_before_death = s.acked_before_death + cur.ack
      note("died", tostring(e.result.error))
    elseif fin_sent and type(e.result.value) == "table" then
      local r = e.result.value
      s.received = s.received + r.count
      s.bad = s.bad + r.bad
      if r.count ~= cur.acc then s.mismatch = s.mismatch + 1 end
    else
      s.other_exit = s.other_exit + 1
      note("odd", tostring(e.result.error or e.result.value))
    end
    cur = nil
  end
  -- A send failed or the receiver went quiet: wait for its EXIT.
  local function await_exit(fin_sent)
    local e, ok = C.recv(cur.ch, guard)
    if ok then
      ended(e, fin_sent)
    else
      s.unnotified = s.unnotified + 1
      s.lost = s.lost + cur.acc
      note("unnotified", cur.pid)
      P.forget(cur.pid)
      cur = nil
    end
  end
  local n = 0
  while not fin do
    if cur == nil then start() end
    if cur == nil then break end
    local ok, err = process.send(cur.pid, "m", seq + 1)
    if ok then
      seq = seq + 1
      cur.acc = cur.acc + 1
      s.accepted = s.accepted + 1
    else
      local k = C.kind(err)
      s.refused = s.refused + 1
      s.refused_kinds[k] = (s.refused_kinds[k] or 0) + 1
      note("refused", k)
      if k == "NotFound" or k == "Unavailable" then await_exit(false) end
    end
    n = n + 1
    if n % 32 == 0 or cur == nil then
      if not running_told and s.accepted >= 100 then
        running_told = true
        note("running")
      end
      local v = C.poll(ctl)
      if v == "fin" then fin = true end
      local a = C.poll(acks)
      while a do
        if cur and a <= cur.acc and a > cur.ack then cur.ack = a end
        a = C.poll(acks)
      end
      if cur then
        local e, got = C.poll(cur.ch)
        if got then ended(e, false) end
      end
    end
  end
  if cur then
    local ok = process.send(cur.pid, "m", 0)
    if ok then await_exit(true) else await_exit(false) end
  end
  -- A second EXIT for a receiver would show up here.
  C.sleep(0.3)
  s.stray = P.stray()
  return s
end

-- Checks that it gets first, first + 1, ... (0 ends it); acks every 256.
function M.receiver(producer, first)
  local ch = process.listen("m")
  local expect, count, bad = first, 0, 0
  while true do
    local v = ch:receive()
    if v == 0 then return { count = count, bad = bad } end
    if v ~= expect then bad = bad + 1 end
    expect = v + 1
    count = count + 1
    if count % 256 == 0 then process.send(producer, "ack", count) end
  end
end

-- }======

-- {====== Spawn churn: one EXIT per child, LINK_DOWN for failures ======

-- Spawns children linked and monitored on 'host', 'conc' at a time, until
-- "fin" (or 'max' were spawned). Child i fails when i % 3 == 0. Each child must give exactly one
-- EXIT, and a LINK_DOWN exactly when it failed (its own error or its
-- host's death).
function M.churner(host, guard, conc, max, entry)
  process.set_options({ trap_links = true })
  local P = C.pump()
  local ctl = process.listen("ctl")
  local s = { spawned = 0, spawnfail = 0, exits = 0, downs = 0, ok = 0,
              failed = 0, hostdied = 0, wrong = 0, missing = 0,
              down_mismatch = 0, dupexit = 0, dupdown = 0 }
  local out = {}        -- pid -> {i, ch, exit, down, failed}
  local nout, i, fin = 0, 0, false
  local function settle(pid, r)
    if r.exit ~= 1 then s.missing = s.missing + 1 end
    if (r.down == 1) ~= (r.failed == true) then
      s.down_mismatch = s.down_mismatch + 1
    end
    P.forget(pid)
  end
  local function take(pid, r, e)
    if e.kind == process.event.EXIT then
      if r.exit > 0 then s.dupexit = s.dupexit + 1 end
      r.exit = r.exit + 1
      s.exits = s.exits + 1
      if e.result.error ~= nil then
        r.failed = true
        s.failed = s.failed + 1
        if C.host_died(e) then s.hostdied = s.hostdied + 1 end
        if r.i % 3 ~= 0 and not C.host_died(e) then s.wrong = s.wrong + 1 end
      else
        s.ok = s.ok + 1
        if e.result.value ~= r.i then s.wrong = s.wrong + 1 end
      end
    elseif e.kind == process.event.LINK_DOWN then
      if r.down > 0 then s.dupdown = s.dupdown + 1 end
      r.down = r.down + 1
      s.downs = s.downs + 1
    end
  end
  local started = C.now()
  while not fin or nout > 0 do
    if max and i >= max then fin = true end
    while not fin and nout < conc do
      i = i + 1
      local pid = process.spawn_linked_monitored(entry or "fault:v_child", host, i)
      if pid then
        out[pid] = { i = i, ch = P.watch(pid), exit = 0, down = 0,
                     at = C.now() }
        nout = nout + 1
        s.spawned = s.spawned + 1
      else
        s.spawnfail = s.spawnfail + 1
        C.sleep(0.02)
        break
      end
    end
    -- Collect what came; a child is done once it exited and, if it
    -- failed, its LINK_DOWN came too (or a short while passed).
    local any = false
    for pid, r in pairs(out) do
      local e, got = C.poll(r.ch)
      while got do
        any = true
        take(pid, r, e)
        e, got = C.poll(r.ch)
      end
      if r.exit > 0 and (not r.failed or r.down > 0) then
        settle(pid, r)
        out[pid] = nil
        nout = nout - 1
      elseif C.now() - r.at > guard then
        settle(pid, r)
        out[pid] = nil
        nout = nout - 1
      end
    end
    if not any then
      local v = C.recv(ctl, 0.005)
      if v == "fin" then fin = true end
    elseif C.poll(ctl) == "fin" then
      fin = true
    end
    if fin and C.now() - started > 10 * guard then break end
  end
  for pid, r in pairs(out) do settle(pid, r) end
  s.secs = math.floor((C.now() - started) * 10 + 0.5) / 10
  C.sleep(0.3)
  s.stray = P.stray()
  return s
end

-- Sleeps a little, then returns i, or fails when i % 3 == 0.
function M.child(i)
  C.sleep((i % 7) * 0.003)
  if i % 3 == 0 then error("boom " .. i) end
  return i
end

-- }======

-- {====== Monitored spawns while another tenant floods the names ======

-- Spawns children that register, look up and keep a name of their own
-- (victim.w.<i>), 'conc' at a time on 'host', 'n' of them. Same checks as
-- the churner.
function M.spawner(host, guard, conc, n)
  return M.churner(host, guard, conc, n, "fault:v_named")
end

function M.named(i)
  local nm = "victim.w." .. i
  assert(process.registry.register(nm))
  assert(process.registry.lookup(nm) == process.pid(), "lookup of own name")
  if i % 3 == 0 then error("boom " .. i) end
  return i
end

-- }======

-- {====== Naive fan-in ======

-- n sends of (p << 40 | i), i = 1..n, to 'consumer', no error handling;
-- counts what was accepted. Then the end marker (p << 40), retried until
-- accepted (for 'guard' seconds).
function M.fanprod(consumer, p, n, guard)
  local acc, sum, sq, refused, kinds = 0, 0, 0, 0, {}
  local base = p << 40
  for i = 1, n do
    local ok, err = process.send(consumer, "m", base | i)
    if ok then
      acc = acc + 1
      sum = sum + i
      sq = sq + i * i
    else
      refused = refused + 1
      local k = C.kind(err)
      kinds[k] = (kinds[k] or 0) + 1
    end
  end
  local t0, fin = C.now(), false
  repeat
    fin = process.send(consumer, "m", base) == true
    if not fin then C.sleep(0.01) end
  until fin or C.now() - t0 > guard
  return { p = p, accepted = acc, sum = sum, sq = sq, refused = refused,
           refused_kinds = kinds, fin = fin }
end

-- Takes messages until 'nprod' end markers came, doing 'work' steps of
-- arithmetic for each; per sender: count, sum, sum of squares, and
-- numbers that were not larger than the one before (duplicates or
-- reordering).
function M.consumer(nprod, work)
  local ch = process.listen("m")
  local per, fins, h = {}, 0, 0
  while fins < nprod do
    local v = ch:receive()
    local p, i = v >> 40, v & ((1 << 40) - 1)
    local r = per[p]
    if r == nil then
      r = { last = 0, count = 0, sum = 0, sq = 0, bad = 0, fin = 0 }
      per[p] = r
    end
    if i == 0 then
      fins = fins + 1
      r.fin = r.fin + 1
    else
      if i <= r.last then r.bad = r.bad + 1 end
      r.last = i
      r.count = r.count + 1
      r.sum = r.sum + i
      r.sq = r.sq + i * i
      for k = 1, work do h = (h * 31 + k) % 1000003 end
    end
  end
  return { per = per, h = h }
end

-- }======

return M
