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
function M.recv(ch, d, what)
  local time = require("time")
  local r = channel.select({ ch:case_receive(), time.after(d or "2s"):case_receive() })
  if r.channel ~= ch then error((what or "receive") .. ": timed out", 2) end
  return r.value, r.ok
end

return M
