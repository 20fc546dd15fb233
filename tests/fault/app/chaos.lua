-- The chaos tenant (actor 'chaos', group fault:chaos): load that must hurt
-- nobody but itself. It may only use its own names (chaos.*), its own
-- entries (fault:c_*) and the hosts fault:chaos and fault:work.
local C = require("common")

local M = {}

-- Registers n names chaos.<tag>.<i>.<padding> ('len' bytes each) from
-- 'conc' coroutines, tells the harness ("note": holding), keeps them
-- until the harness says "release" (topic "ctl"), then ends: its names
-- go with it.
function M.flood(harness, tag, n, conc, len, guard)
  local ctl = process.listen("ctl")
  local done = channel.new(conc)
  local s = { registered = 0, refused = 0, refused_kinds = {} }
  for c = 1, conc do
    coroutine.spawn(function()
      for i = c, n, conc do
        local nm = "chaos." .. tag .. "." .. i .. "."
        nm = nm .. string.rep("x", len - #nm)
        local ok, err = process.registry.register(nm)
        if ok then
          s.registered = s.registered + 1
        else
          local k = C.kind(err)
          s.refused = s.refused + 1
          s.refused_kinds[k] = (s.refused_kinds[k] or 0) + 1
        end
      end
      done:send(true)
    end)
  end
  for _ = 1, conc do done:receive() end
  process.send(harness, "note", { tag = tag, ev = "holding",
                                  extra = s.registered })
  local v = C.recv(ctl, guard)
  s.released = v == "release"
  return s
end

-- A long-lived process on fault:work that the churn's watchers monitor;
-- ends on "quit".
function M.target()
  process.listen("quit"):receive()
  return true
end

-- Monitors every target, then ends (without unmonitoring: its monitors
-- must go with it). Returns true, or the kind of the first refusal.
function M.watcher(...)
  for _, t in ipairs({ ... }) do
    local ok, err = process.monitor(t)
    if not ok then return C.kind(err) end
  end
  return true
end

-- Monitors every target and waits for one EXIT of each; then waits a
-- little more for a second one. Returns "n/m": targets whose EXIT came,
-- of m; or "dup" if one came twice.
function M.longwatch(guard, ...)
  local P = C.pump()
  local ts = { ... }
  local chs = {}
  for i, t in ipairs(ts) do
    chs[i] = P.watch(t)
    assert(process.monitor(t))
  end
  local n = 0
  for i = 1, #ts do
    local _, got = C.recv(chs[i], guard)
    if got then n = n + 1 end
  end
  C.sleep(0.5)
  for i = 1, #ts do
    if C.poll(chs[i]) then return "dup" end
  end
  if P.stray() > 0 then return "stray" end
  return n .. "/" .. #ts
end

-- The churn: spawns 'ntargets' targets on fault:work and 'nlong' long
-- watchers of all of them (on fault:chaos); then spawns watchers
-- (monitored, 'conc' at a time) that monitor every target and end, until
-- 'n' have ended or 'secs' passed. Each must give exactly one EXIT. Tells
-- the harness ("churned"), waits for "end" (topic "ctl"), ends the targets
-- and collects the long watchers' answers: each must have seen exactly
-- one EXIT of each target.
function M.churn(harness, tag, n, ntargets, conc, nlong, secs, guard)
  local P = C.pump()
  local ctl = process.listen("ctl")
  local s = { wanted = n, watchers = 0, exits = 0, missing = 0, monitors = 0,
              monitor_ok = 0, monitor_refused = {}, spawnfail = 0,
              long = nlong, long_one = 0, long_counts = {},
              targets = ntargets, target_exits = 0 }
  local ts, tchs = {}, {}
  for i = 1, ntargets do
    ts[i] = assert(process.spawn_monitored("fault:c_target", "fault:work"))
    tchs[i] = P.watch(ts[i])
  end
  local longs = {}
  for j = 1, nlong do
    local pid = assert(process.spawn_monitored("fault:c_longwatch",
      "fault:chaos", 10 * guard, table.unpack(ts)))
    longs[j] = { pid = pid, ch = P.watch(pid) }
  end
  local t0 = C.now()
  local started, ended = 0, 0
  local done = channel.new(conc)
  for c = 1, conc do
    coroutine.spawn(function()
      while started < n and C.now() - t0 < secs do
        started = started + 1
        local pid = process.spawn_monitored("fault:c_watcher", "fault:chaos",
                                            table.unpack(ts))
        if not pid then
          s.spawnfail = s.spawnfail + 1
          C.sleep(0.01)
        else
          s.watchers = s.watchers + 1
          local ch = P.watch(pid)
          local e, ok = C.recv(ch, guard)
          if not ok then
            s.missing = s.missing + 1
          else
            s.exits = s.exits + 1
            local v = e.result.value
            if v == true then
              s.monitor_ok = s.monitor_ok + 1
              s.monitors = s.monitors + ntargets
            else
              local k = tostring(v or e.result.error)
              s.monitor_refused[k] = (s.monitor_refused[k] or 0) + 1
            end
          end
          P.forget(pid)
          ended = ended + 1
        end
      end
      done:send(true)
    end)
  end
  for _ = 1, conc do done:receive() end
  process.send(harness, "note", { tag = tag, ev = "churned",
                                  extra = s.monitors })
  C.recv(ctl, 100 * guard)
  -- The end: the targets go; every long watcher sees each once.
  for i = 1, ntargets do process.send(ts[i], "quit", true) end
  for i = 1, ntargets do
    local e, ok = C.recv(tchs[i], guard)
    if ok and e.kind == process.event.EXIT then
      s.target_exits = s.target_exits + 1
    end
  end
  for _, l in ipairs(longs) do
    local le, lok = C.recv(l.ch, 2 * guard)
    local k = "none"
    if lok then k = tostring(le.result.value or le.result.error) end
    if k == ntargets .. "/" .. ntargets then s.long_one = s.long_one + 1 end
    s.long_counts[k] = (s.long_counts[k] or 0) + 1
  end
  C.sleep(0.3)
  s.stray = P.stray()
  return s
end

return M
