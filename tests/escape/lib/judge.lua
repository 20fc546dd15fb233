-- The judge: helpers for the escape tests (a library.lua entry, esc:judge).
-- Every test runs as actor "judge" (tenant judge) on host esc:judge. It
-- starts the attack as tenant "attacker" (actor attacker, scope
-- esc:attacker) on one of the attacker's hosts, waits for its EXIT, and
-- asserts the contained outcome exactly. Around every attack the judge
-- pings the canary (tenant canary, host esc:canary, name "esc_canary") and
-- checks it is the same process, still answering, and that nothing but the
-- judge's pings reached it.
local time = require("time")

local J = {}

J.ATTACKER = { id = "attacker", meta = { tenant = "attacker" } }
J.SCOPE = { "esc:attacker" }
J.CANARY = "esc_canary"

local ev            -- process.events() of the judge
local backlog = {}  -- events read while waiting for another one
local pongs         -- process.listen("pong")
local canary        -- the canary's PID, as first seen
local seen          -- the canary's counters at begin()
local spawned = {}  -- attacker processes the judge started (killed at end)

local function fail(msg, lvl) error(msg, (lvl or 1) + 1) end

function J.eq(got, want, what)
  if got ~= want then
    fail(string.format("%s: expected %s, got %s", what or "value",
      tostring(want), tostring(got)), 2)
  end
  return got
end

function J.ok(v, what)
  if not v then fail(what or "expected a true value", 2) end
  return v
end

function J.has(s, text, what)
  if type(s) ~= "string" or not s:find(text, 1, true) then
    fail(string.format("%s: expected text containing %q, got %s",
      what or "message", text, tostring(s)), 2)
  end
  return s
end

-- Asserts `nil, err` of the given kind (and message text, if given).
function J.fails(kind, text, v, err, what)
  if v ~= nil and v ~= false then
    fail(string.format("%s: expected failure %s, got %s", what or "call",
      kind, tostring(v)), 2)
  end
  if type(err) ~= "userdata" or err:kind() ~= kind then
    fail(string.format("%s: expected error kind %s, got %s (%s)",
      what or "call", kind, type(err) == "userdata" and err:kind() or type(err),
      tostring(err)), 2)
  end
  if text and not tostring(err):find(text, 1, true) then
    fail(string.format("%s: expected %q in %q", what or "call", text,
      tostring(err)), 2)
  end
  return err
end

-- Receive from ch or fail after d.
function J.recv(ch, d, what)
  local r = channel.select({ ch:case_receive(), time.after(d or "3s"):case_receive() })
  if r.channel ~= ch then fail((what or "receive") .. ": timed out", 2) end
  return r.value
end

local function take(kind, from)
  for i, e in ipairs(backlog) do
    if e.kind == kind and (from == nil or e.from == from) then
      table.remove(backlog, i)
      return e
    end
  end
end

-- Wait for an event of kind from pid; fails after d.
function J.event(kind, from, d, what)
  local found = take(kind, from)
  if found then return found end
  local deadline = time.after(d or "5s")
  while true do
    local r = channel.select({ ev:case_receive(), deadline:case_receive() })
    if r.channel ~= ev then
      fail((what or "event") .. ": no " .. kind .. " from " .. tostring(from), 2)
    end
    local e = r.value
    if e.kind == kind and (from == nil or e.from == from) then return e end
    backlog[#backlog + 1] = e
  end
end

-- Events already delivered, without waiting.
local function drain()
  while true do
    local r = channel.select({ ev:case_receive() }, true)
    if r == nil or r.channel ~= ev then return end
    backlog[#backlog + 1] = r.value
  end
end

-- A builder that starts processes as the attacker tenant.
function J.as_attacker()
  return process.with_context({}):with_actor(J.ATTACKER):with_scope(J.SCOPE)
end

-- Spawn an attacker entry (monitored by the judge). A host that is
-- restarting after an earlier test killed it is waited for.
function J.spawn(entry, host, ...)
  local pid, err
  for _ = 1, 150 do
    pid, err = J.as_attacker():spawn_monitored(entry, host, ...)
    if pid then
      spawned[#spawned + 1] = pid
      return pid
    end
    if err:kind() ~= errors.UNAVAILABLE and err:kind() ~= errors.NOT_FOUND then break end
    time.sleep("20ms")
  end
  fail("spawn " .. entry .. " on " .. host .. ": " .. tostring(err), 2)
end

-- Run one attack to its end: returns its EXIT result ({value=...} or
-- {error=...}) with two more fields: pid and ms (the time it took).
function J.attack(entry, host, timeout, ...)
  local t0 = time.now()
  local pid = J.spawn(entry, host, ...)
  local e = J.event(process.event.EXIT, pid, timeout or "5s", "attack " .. entry)
  local r = e.result
  r.pid = pid
  r.ms = time.now():sub(t0):milliseconds()
  return r
end

-- The attack returned normally with exactly this value.
function J.value(result, want, what)
  if result.error ~= nil then
    fail(string.format("%s: expected the value %s, the attack failed: %s",
      what or "attack", tostring(want), tostring(result.error)), 2)
  end
  if want ~= nil then J.eq(result.value, want, what or "attack result") end
  return result.value
end

-- The attack ended with this error kind and message text.
function J.error(result, kind, text, what)
  local e = result.error
  if e == nil then
    fail(string.format("%s: expected error %s %q, the attack returned %s",
      what or "attack", kind, text or "", tostring(result.value)), 2)
  end
  if type(e) ~= "userdata" or e:kind() ~= kind then
    fail(string.format("%s: expected error kind %s, got %s", what or "attack",
      kind, tostring(e)), 2)
  end
  if text and not tostring(e):find(text, 1, true) then
    fail(string.format("%s: expected %q in %q", what or "attack", text,
      tostring(e)), 2)
  end
  return e
end

-- One ping-pong with the canary; returns its report.
function J.ping(what)
  local nonce = tostring(time.now():unix_nano()) .. process.pid()
  J.eq(process.send(J.CANARY, "ping", nonce), true, (what or "canary") .. ": ping sent")
  local deadline = time.after("3s")
  while true do
    local r = channel.select({ pongs:case_receive(), deadline:case_receive() })
    if r.channel ~= pongs then fail((what or "canary") .. ": no pong within 3s", 2) end
    if r.value.nonce == nonce then return r.value end
  end
end

-- Start of a test: find the canary, watch it, note its counters.
function J.begin()
  ev = process.events()
  pongs = process.listen("pong")
  for _ = 1, 200 do
    canary = process.registry.lookup(J.CANARY)
    if canary then break end
    time.sleep("10ms")
  end
  J.ok(canary, "the canary is registered as " .. J.CANARY)
  -- The first process of its host: a canary restarted by its service (or
  -- on a restarted host) would have a later PID.
  J.eq(canary, "{esc:canary|0x00001}", "the canary was never restarted")
  J.eq(process.monitor(canary), true, "monitor the canary")
  seen = J.ping("canary before the attack")
  J.eq(seen.pid, canary, "canary PID")
  return canary
end

-- End of a test: the canary still answers, is the same process, was not
-- reached by anything but pings, and did not exit. Attacker processes the
-- judge started are terminated.
function J.finish()
  local now = J.ping("canary after the attack")
  J.eq(now.pid, canary, "the canary is the same process")
  J.eq(now.pokes, seen.pokes, "messages other than the judge's pings reached the canary")
  J.eq(process.registry.lookup(J.CANARY), canary, "the canary still holds its name")
  drain()
  J.ok(not take(process.event.EXIT, canary), "the canary exited")
  for _, pid in ipairs(spawned) do process.terminate(pid) end
  return true
end

-- A process of the attacker's is still alive (a send to it succeeds).
function J.alive(pid, what)
  J.eq(process.send(pid, "noop", 1), true, (what or "process") .. " still alive")
end

return J
