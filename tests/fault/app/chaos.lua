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

-- Monitors 'target', then ends (without unmonitoring: its monitor must
-- go with it).
function M.watcher(target)
  local ok, err = process.monitor(target)
  if ok then return true end
  return C.kind(err)
end

-- Monitors 'target' and waits for its one EXIT; then waits a little more
-- for a second one. Returns how many came.
function M.longwatch(target, guard)
  local P = C.pump()
  local ch = P.watch(target)
  assert(process.monitor(target))
  local n, ok = 0, true
  local _, got = C.recv(ch, guard)
  if got then
    n = 1
    while true do
      _, ok = C.recv(ch, 0.5)
      if not ok then break end
      n = n + 1
    end
  end
  return n
end

-- The churn: spawns a target on fault:work and 'nlong' long watchers of it
-- (on fault:chaos); then spawns watchers (monitored, 'conc' at a time)
-- that monitor the target and end, until 'n' have ended or 'secs'
-- passed. Each must give exactly one EXIT. Tells the harness ("churned"),
-- waits for "end" (topic "ctl"), ends the target and collects the long
-- watchers' counts: each must have seen exactly one EXIT.
function M.churn(harness, tag, n, conc, nlong, secs, guard)
  local P = C.pump()
  local ctl = process.listen("ctl")
  local s = { watchers = 0, exits = 0, dupexit = 0, missing = 0,
              monitor_ok = 0, monitor_refused = {}, spawnfail = 0,
              long = nlong, long_one = 0, long_counts = {},
              target_exit = 0 }
  local T = assert(process.spawn_monitored("fault:c_target", "fault:work"))
  local tch = P.watch(T)
  local longs = {}
  for j = 1, nlong do
    local pid = assert(process.spawn_monitored("fault:c_longwatch",
                                               "fault:chaos", T, 10 * guard))
    longs[j] = { pid = pid, ch = P.watch(pid) }
  end
  local t0 = C.now()
  local started, ended = 0, 0
  local done = channel.new(conc)
  for c = 1, conc do
    coroutine.spawn(function()
      while started < n and C.now() - t0 < secs do
        started = started + 1
        local pid = process.spawn_monitored("fault:c_watcher", "fault:chaos", T)
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
                                  extra = ended })
  C.recv(ctl, 100 * guard)
  -- The end: the target goes; every long watcher sees it once.
  process.send(T, "quit", true)
  local e, ok = C.recv(tch, guard)
  if ok and e.kind == process.event.EXIT then s.target_exit = 1 end
  for _, l in ipairs(longs) do
    local le, lok = C.recv(l.ch, 2 * guard)
    local k = "none"
    if lok then k = tostring(le.result.value or le.result.error) end
    if k == "1" then s.long_one = s.long_one + 1 end
    s.long_counts[k] = (s.long_counts[k] or 0) + 1
  end
  C.sleep(0.3)
  s.dupexit = s.dupexit + P.late
  return s
end

return M
