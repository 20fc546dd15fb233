-- The fault suite's harness (fault:main, actor 'harness' on fault:ctl):
-- runs the victim's and the chaos tenant's load, asks the driver script
-- (tests/fault/run.sh) for faults and measurements with "@" lines on
-- standard output, and prints the counts of every case as "@count" lines
-- for the script to reconcile. The script answers each "@" request by
-- killing the bell host (fault:bell), whose death this process watches:
-- every wait, for the script or for a process, has a guard.
local C = require("common")

local M = {}

-- Sizes. short: at most a minute on an idle machine; long: the 'secs'
-- of crossload with kills, the names flood and the fan-in repeated until
-- it passes, and the same monitor churn as the short one.
local SIZES = {
  short = {
    secs = 20, kill_period = 2, producers = 4, churn_conc = 8,
    stop_guard = 20, stopcont = 2, guard = 20, budget = 100,
    flooders = 2, names = 100000, name_len = 250, flood_conc = 32,
    spawn_conc = 8, spawns = 250,
    mchurn = 12000, mchurn_targets = 16, mchurn_conc = 16, mchurn_long = 20,
    fan_n = 25000, fan_work = 400,
  },
  long = {
    secs = 600, kill_period = 3, producers = 4, churn_conc = 8,
    stop_guard = 60, stopcont = 3, guard = 120, budget = 1200,
    flooders = 2, names = 100000, name_len = 250, flood_conc = 32,
    spawn_conc = 8, spawns = 500,
    mchurn = 12000, mchurn_targets = 16, mchurn_conc = 16, mchurn_long = 20,
    fan_n = 250000, fan_work = 400,
  },
  warm = {
    secs = 1, kill_period = 0, producers = 1, churn_conc = 4,
    stop_guard = 20, stopcont = 0, guard = 20, budget = 60,
    flooders = 1, names = 2000, name_len = 250, flood_conc = 8,
    spawn_conc = 4, spawns = 100,
    mchurn = 300, mchurn_targets = 16, mchurn_conc = 4, mchurn_long = 2,
    fan_n = 500, fan_work = 400,
  },
}

local VICTIM, CHAOS, ME, P, notes, lock
local T0 = 0
local bell

local function victim() return VICTIM end
local function chaos() return CHAOS end

local function out(line) print(line) end

local function fail(case, msg)
  out("@fail " .. case .. " " .. msg)
end

local function count(case, t)
  out("@count " .. case .. " " .. C.fmt(t))
end

-- {====== Talking to the script ======

local function ring_bell()
  for _ = 1, 200 do
    bell = process.spawn_monitored("fault:ring", "fault:bell")
    if bell then return P.watch(bell) end
    C.sleep(0.05)
  end
  error("cannot start the bell")
end

local bellch

-- Print "@cmd" and wait until the script has done it (it kills the bell
-- host). One request at a time.
local function ask(cmd, guard)
  lock:receive()
  out("@" .. cmd)
  local e, ok = C.recv(bellch, guard or 120)
  P.forget(bell)
  if not ok then
    fail("protocol", "the script did not answer @" .. cmd:gsub("%s", "_"))
  elseif not C.host_died(e) then
    fail("protocol", "bell ended but its host did not die: "
      .. tostring(e.result.error or e.result.value):gsub("%s", "_"))
  end
  bellch = ring_bell()
  lock:send(true)
end

-- Notes from the load (topic "note"), handed out by tag: one pump reads
-- them all, each tag has its own queue (a channel), so that several
-- coroutines of this process may wait for notes at once.
local tags = {}
local function tagch(tag)
  local c = tags[tag]
  if c == nil then
    c = channel.new(1024)
    tags[tag] = c
  end
  return c
end

local function note_pump()
  coroutine.spawn(function()
    while true do
      local n, ok = notes:receive()
      if not ok then return end
      local c = tagch(n.tag)
      channel.select({ c:case_send(n) }, true) -- a full queue drops it
    end
  end)
end

-- The next note of 'tag' with event 'ev' (a string, or a set of them;
-- other notes of that tag are skipped) within 'secs' seconds, or nil.
local function note(tag, ev, secs)
  local t0 = C.now()
  while true do
    local left = secs - (C.now() - t0)
    if left <= 0 then return nil end
    local n, ok = C.recv(tagch(tag), left)
    if ok and (n.ev == ev or (type(ev) == "table" and ev[n.ev])) then
      return n
    end
  end
end

-- }======

-- Spawn with identity 'b' (a SpawnBuilder); nil, err on failure.
local function start(b, entry, host, ...)
  local pid, err = b:spawn_monitored(entry, host, ...)
  if not pid then return nil, err end
  return { pid = pid, ch = P.watch(pid) }
end

-- The EXIT of a started process: its value, or nil and a message.
local function result(p, guard, what)
  local e, ok = C.recv(p.ch, guard)
  P.forget(p.pid)
  if not ok then
    return nil, what .. ": no EXIT within " .. guard .. " s"
  end
  if e.result.error ~= nil then
    return nil, what .. " failed: " .. tostring(e.result.error)
  end
  return e.result.value
end

local function report(case, p, guard, what)
  local v, err = result(p, guard, what)
  if v == nil then
    fail(case, err:gsub("\n", " "))
    return nil
  end
  return v
end

-- {====== Cases ======

-- Numbered traffic from fault:src to receivers on fault:sink while the
-- script kills fault:sink every few seconds; a churn of linked, monitored
-- spawns on fault:sink at the same time.
local function case_crossload(z, pre)
  if z.kill_period > 0 then ask("kill-on fault:sink " .. z.kill_period) end
  local prods = {}
  for i = 1, z.producers do
    prods[i] = assert(start(victim(), "fault:v_producer", "fault:src", ME,
                            pre .. "x" .. i, "fault:sink", z.guard))
  end
  local ch = assert(start(victim(), "fault:v_churner", "fault:src",
                          "fault:sink", z.guard, z.churn_conc))
  C.sleep(z.secs)
  if z.kill_period > 0 then ask("kill-off fault:sink") end
  for _, p in ipairs(prods) do process.send(p.pid, "ctl", "fin") end
  process.send(ch.pid, "ctl", "fin")
  for i, p in ipairs(prods) do
    local v = report(pre .. "crossload", p, 4 * z.guard, "producer " .. i)
    if v then v.p = i; count(pre .. "crossload", v) end
  end
  local v = report(pre .. "spawnchurn", ch, 12 * z.guard, "churner")
  if v then count(pre .. "spawnchurn", v) end
end

-- A producer to 'host' that the script stops (and, with 'cont', resumes
-- after 'cont' seconds; else leaves it to the broker's liveness
-- deadline, and resumes it itself when 'stop_guard' passed).
local function case_stop(z, pre, case, host, cont)
  local p = assert(start(victim(), "fault:v_producer", "fault:src", ME,
                         pre .. case, host, z.guard))
  if not note(pre .. case, "running", z.guard) then
    fail(pre .. case, "no traffic to " .. host .. " within " .. z.guard .. " s")
  end
  local c = { answered = 0, guard_s = z.stop_guard }
  if z.kill_period > 0 then
    if cont then
      ask("stopcont " .. host .. " " .. cont)
      C.sleep(0.5)
    else
      ask("stop " .. host)
      local t0 = C.now()
      -- Answered: the blocked send failed, or the receiver's EXIT came.
      local n = note(pre .. case, { refused = true, died = true },
                     z.stop_guard)
      c.waited_ms = math.floor((C.now() - t0) * 1000)
      if n then
        c.answered = 1
      else
        ask("cont " .. host)
      end
    end
  end
  process.send(p.pid, "ctl", "fin")
  local v = report(pre .. case, p, 4 * z.guard, "producer")
  if v then
    for k, x in pairs(c) do v[k] = x end
    count(pre .. case, v)
  end
end

-- The chaos tenant registers many long names and holds them; then the
-- victim makes monitored spawns (which register names too) on fault:work,
-- and each must complete.
local function case_names(z, pre, round)
  local fl = {}
  for k = 1, z.flooders do
    fl[k] = assert(start(chaos(), "fault:c_flood", "fault:chaos", ME,
                         pre .. "f" .. round .. "_" .. k, z.names,
                         z.flood_conc, z.name_len, 10 * z.guard))
  end
  local held = 0
  for k = 1, z.flooders do
    local n = note(pre .. "f" .. round .. "_" .. k, "holding", 10 * z.guard)
    if n then
      held = held + n.extra
      if z.kill_period > 0 then
        out("@note flooder " .. k .. " held its names at "
          .. math.floor(C.now() - T0) .. " s;")
      end
    else
      fail(pre .. "names", "flooder " .. k .. " did not finish registering")
    end
  end
  if z.kill_period > 0 then ask("sample names" .. round .. " " .. held) end
  local sp = assert(start(victim(), "fault:v_spawner", "fault:src",
                          "fault:work", z.guard, z.spawn_conc, z.spawns))
  local v = report(pre .. "names", sp, 12 * z.guard, "victim spawner")
  if v then v.round = round; count(pre .. "names", v) end
  if z.kill_period > 0 then
    out("@note victim spawns done at " .. math.floor(C.now() - T0) .. " s;")
  end
  for k, f in ipairs(fl) do
    process.send(f.pid, "ctl", "release")
    local fv = report(pre .. "flood", f, 4 * z.guard, "flooder " .. k)
    if fv then fv.k = k; fv.round = round; count(pre .. "flood", fv) end
  end
end

-- The chaos tenant churns watchers of one long-lived target on fault:work.
-- Returns the driver: it is ended after the last measurement.
local function case_mchurn(z, pre, secs)
  local d = assert(start(chaos(), "fault:c_churn", "fault:chaos", ME,
                         pre .. "mchurn", z.mchurn, z.mchurn_targets,
                         z.mchurn_conc, z.mchurn_long, secs, z.guard))
  if not note(pre .. "mchurn", "churned", secs + 10 * z.guard) then
    fail(pre .. "mchurn", "the churn did not finish within "
      .. (secs + 10 * z.guard) .. " s")
  end
  return d
end

local function end_mchurn(z, pre, d)
  process.send(d.pid, "ctl", "end")
  local v = report(pre .. "mchurn", d, 2 * z.guard, "churn driver")
  if v then count(pre .. "mchurn", v) end
end

-- Four naive producers (two on fault:src, one on fault:work, one beside
-- the consumer on fault:fan) against one slow consumer.
local function case_fanin(z, pre, round)
  local cons = assert(start(victim(), "fault:v_consumer", "fault:fan", 4,
                            z.fan_work))
  local hosts = { "fault:src", "fault:src", "fault:work", "fault:fan" }
  local prods = {}
  for p = 1, 4 do
    prods[p] = assert(start(victim(), "fault:v_fanprod", hosts[p], cons.pid,
                            p, z.fan_n, z.guard))
  end
  local sent = {}
  for p = 1, 4 do
    sent[p] = report(pre .. "fanin", prods[p], 40 * z.guard, "producer " .. p)
    if sent[p] and not sent[p].fin then
      -- Its end marker never got in: the harness sends it, so the
      -- consumer can finish (what it accepted before is still checked).
      fail(pre .. "fanin", "producer " .. p .. " could not send its end marker")
      process.send(cons.pid, "m", p << 40)
    elseif not sent[p] then
      process.send(cons.pid, "m", p << 40)
    end
  end
  local got = report(pre .. "fanin", cons, 40 * z.guard, "consumer")
  for p = 1, 4 do
    local s = sent[p]
    local r = got and got.per[p] or { count = -1, sum = -1, sq = -1, bad = -1 }
    if s then
      count(pre .. "fanin", { round = round, p = p, accepted = s.accepted, sum = s.sum,
        sq = s.sq, refused = s.refused, refused_kinds = s.refused_kinds,
        got = r.count, gsum = r.sum, gsq = r.sq, bad = r.bad })
    end
  end
end

-- }======

-- Run 'f' in a coroutine of this process; the returned channel gets true
-- when it is done (or its error).
local function go(f, ...)
  local done = channel.new(1)
  local args = table.pack(...)
  coroutine.spawn(function()
    local ok, err = pcall(f, table.unpack(args, 1, args.n))
    done:send(ok and true or tostring(err))
  end)
  return done
end

-- Wait for 'done' until 'deadline' (C.now() seconds).
local function join(case, done, deadline, total)
  local v, ok = C.recv(done, math.max(deadline - C.now(), 0.001))
  if not ok then
    fail(case, "not done within " .. total .. " s")
  elseif v ~= true then
    fail(case, "harness error: " .. tostring(v):gsub("\n", " "))
  end
end

-- Warm-up: every kind of load once, small and without faults, so the
-- measurements after it see every path's memory already in use.
local function warm_up()
  local z = SIZES.warm
  local w = {
    go(case_crossload, z, "warm-"),
    go(case_stop, z, "warm-", "stop", "fault:frozen", nil),
    go(case_stop, z, "warm-", "stopcont", "fault:nap", 1),
    go(case_names, z, "warm-", 0),
    go(case_fanin, z, "warm-", 0),
    go(function()
      local d = case_mchurn(z, "warm-", 60)
      end_mchurn(z, "warm-", d)
    end),
  }
  local t0 = C.now()
  for _, d in ipairs(w) do join("warm-up", d, t0 + z.budget, z.budget) end
end

function M.main(mode)
  local z = SIZES[mode or "short"]
  assert(z, "mode: short or long")
  ME = process.pid()
  P = C.pump()
  notes = process.listen("note")
  note_pump()
  lock = channel.new(1)
  lock:send(true)
  VICTIM = process.with_context({})
    :with_actor({ id = "victim", meta = { tenant = "victim" } })
    :with_scope({ "fault:victim" })
  CHAOS = process.with_context({})
    :with_actor({ id = "chaos", meta = { tenant = "chaos" } })
    :with_scope({ "fault:chaos" })
  bellch = ring_bell()
  out("@mode " .. mode)

  local tw = C.now()
  warm_up()
  out("@note warm-up took " .. math.floor(C.now() - tw) .. " s;")
  ask("baseline")
  local t0 = C.now()
  T0 = t0
  local until_t = t0 + z.secs
  local mch
  local jobs = {
    crossload = go(case_crossload, z, ""),
    stops = go(function()
      case_stop(z, "", "stopcont", "fault:nap", z.stopcont)
      case_stop(z, "", "stop", "fault:frozen", nil)
    end),
    names = go(function()
      local round = 0
      repeat
        round = round + 1
        case_names(z, "", round)
      until mode ~= "long" or C.now() >= until_t
    end),
    mchurn = go(function()
      -- As many watchers in both versions: the long one is slower (the
      -- names held make every exit cost the broker more), so it may take
      -- longer than 'secs'.
      mch = case_mchurn(z, "", mode == "long" and z.secs + z.budget / 2
                                 or z.budget)
    end),
    fanin = go(function()
      local round = 0
      repeat
        round = round + 1
        case_fanin(z, "", round)
      until mode ~= "long" or C.now() >= until_t
    end),
  }
  for _, k in ipairs({ "crossload", "stops", "names", "mchurn", "fanin" }) do
    join(k, jobs[k], t0 + z.secs + z.budget, z.secs + z.budget)
    out("@note " .. k .. " done at " .. math.floor(C.now() - t0) .. " s;")
  end
  out("@note load done after " .. math.floor(C.now() - t0) .. " s")
  ask("end")
  if mch then end_mchurn(z, "", mch) end
  count("harness", { stray_events = P.stray() })
  out("@done")
  return true
end

-- The bell: sleeps until the script kills its host.
function M.bell()
  require("time").sleep("1h")
end

return M
