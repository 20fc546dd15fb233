-- Helpers shared by the fault suite's processes (library fault:common):
-- clock, receive with a guard, and an event pump that hands each process's
-- EXIT / LINK_DOWN events to whoever waits for that PID, counting the ones
-- nobody waits for (late duplicates).
local time = require("time")

local M = {}

-- Seconds since the epoch, as a float.
function M.now()
  return time.now():unix_nano() / 1e9
end

-- Receive from 'ch' within 'secs' seconds: value, true; or nil, false.
function M.recv(ch, secs)
  local r = channel.select({ ch:case_receive(),
    time.after(math.floor(secs * 1e9)):case_receive() })
  if r.channel == ch then return r.value, true end
  return nil, false
end

-- Receive from 'ch' if something is there now: value, true; or nil, false.
function M.poll(ch)
  local r = channel.select({ ch:case_receive() }, true)
  if r.default then return nil, false end
  return r.value, true
end

function M.sleep(secs)
  time.sleep(math.floor(secs * 1e9))
end

-- Is an EXIT result the death of the watched process's host?
function M.host_died(e)
  local err = e.result and e.result.error
  return err ~= nil and tostring(err):find("host [^ ]+ died") ~= nil
end

function M.kind(err)
  if type(err) == "userdata" or type(err) == "table" then
    local ok, k = pcall(function() return err:kind() end)
    if ok and k then return k end
  end
  return "Other"
end

-- The process's event pump. P.watch(pid) returns a channel that gets
-- every event from 'pid' (events that came before are handed over);
-- after P.forget(pid) its events wait in the pump again, unclaimed.
-- P.stray() counts the events nobody claimed: late duplicates, or events
-- from PIDs nobody watched. Nothing is kept per forgotten PID.
function M.pump()
  local P = { chans = {}, early = {} }
  local ev = process.events()
  coroutine.spawn(function()
    while true do
      local e, ok = ev:receive()
      if not ok then return end
      if e.kind ~= process.event.CANCEL then
        local c = P.chans[e.from]
        if c then
          c:send(e)
        else
          local q = P.early[e.from] or {}
          q[#q + 1] = e
          P.early[e.from] = q
        end
      end
    end
  end)
  function P.watch(pid)
    local c = channel.new(64)
    P.chans[pid] = c
    for _, e in ipairs(P.early[pid] or {}) do c:send(e) end
    P.early[pid] = nil
    return c
  end
  function P.forget(pid)
    P.chans[pid] = nil
  end
  function P.stray()
    local n = 0
    for _, q in pairs(P.early) do n = n + #q end
    return n
  end
  return P
end

-- "k=v k=v" of a flat table, keys sorted (the script parses it).
function M.fmt(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    if type(v) == "table" then
      local parts = {}
      local ks = {}
      for kk in pairs(v) do ks[#ks + 1] = kk end
      table.sort(ks)
      for _, kk in ipairs(ks) do parts[#parts + 1] = kk .. ":" .. tostring(v[kk]) end
      v = table.concat(parts, ",")
      if v == "" then v = "-" end
    end
    v = tostring(v):gsub("%s", "_")
    out[#out + 1] = k .. "=" .. v
  end
  return table.concat(out, " ")
end

return M
