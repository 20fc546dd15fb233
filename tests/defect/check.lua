-- Small assertion helpers shared by the tests (a library.lua entry).
local M = {}

function M.eq(got, want, what)
  if got ~= want then
    error(string.format("%s: expected %s, got %s", what or "value",
      tostring(want), tostring(got)), 2)
  end
end

function M.ok(v, what)
  if not v then error((what or "expected a true value"), 2) end
  return v
end

-- Asserts a `nil, err` result of the given kind; returns the error.
function M.fails(kind, v, err, what)
  if v ~= nil and v ~= false then
    error(string.format("%s: expected failure %s, got %s", what or "call",
      kind, tostring(v)), 2)
  end
  if type(err) ~= "userdata" or err:kind() ~= kind then
    error(string.format("%s: expected error kind %s, got %s (%s)",
      what or "call", kind, type(err) == "userdata" and err:kind() or type(err),
      tostring(err)), 2)
  end
  return err
end

-- Receive from ch or fail after `d`.
-- A wait for something that must come: 'd' is only a floor, the wait
-- is at least 60 s, so that a slow or loaded machine never fails it (it
-- returns as soon as the value comes).
local function patience(d)
  local time = require("time")
  local want, floor = time.parse_duration(d or "2s"), time.parse_duration("60s")
  return want and want > floor and want or floor
end

function M.recv(ch, d, what)
  local time = require("time")
  local r = channel.select({ ch:case_receive(), time.after(patience(d)):case_receive() })
  if r.channel ~= ch then error((what or "receive") .. ": timed out", 2) end
  return r.value, r.ok
end

-- Events read while waiting for another one are kept here, in order, so
-- that a later M.event still finds them.
local backlog = {}

local function take(kind, from)
  for i, e in ipairs(backlog) do
    if e.kind == kind and (from == nil or e.from == from) then
      table.remove(backlog, i)
      return e
    end
  end
end

-- Wait for an event of `kind` from `from` on the events channel `ev`;
-- fails after `d`.
function M.event(ev, kind, from, d, what)
  local time = require("time")
  local found = take(kind, from)
  if found then return found end
  local deadline = time.after(patience(d or "3s"))
  while true do
    local r = channel.select({ ev:case_receive(), deadline:case_receive() })
    if r.channel ~= ev then
      error((what or "event") .. ": no " .. kind .. " from " .. tostring(from), 2)
    end
    local e = r.value
    if e.kind == kind and (from == nil or e.from == from) then return e end
    backlog[#backlog + 1] = e
  end
end

-- Assert that no event of `kind` from `from` arrives within `d`.
function M.no_event(ev, kind, from, d, what)
  local time = require("time")
  if take(kind, from) then error((what or "event") .. ": unexpected " .. kind, 2) end
  local deadline = time.after(d or "200ms")
  while true do
    local r = channel.select({ ev:case_receive(), deadline:case_receive() })
    if r.channel ~= ev then return end
    if r.value.kind == kind and r.value.from == from then
      error((what or "event") .. ": unexpected " .. kind, 2)
    end
    backlog[#backlog + 1] = r.value
  end
end

M.HOSTS = { "t:a", "t:b" }

return M
