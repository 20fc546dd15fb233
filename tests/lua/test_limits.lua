local check = require("check")
local time = require("time")

return { main = function()
  -- A busy process on the same host does not starve this one.
  local spinner = process.spawn("t:sleeper", "t:a", "1ms")
  local busy = load("return { main = function() end }")
  check.ok(busy, "load")
  -- Mailbox bound (1000 on t:a): 1000 fit; from a place that cannot wait
  -- (a table.sort comparator) the next send fails at once. (A send that
  -- can wait waits for room: test_flow.)
  do
    local pid = process.spawn("t:sleeper", "t:a", "10s")
    for i = 1, 1000 do
      check.eq(process.send(pid, "fill", i), true, "fill " .. i)
    end
    local ok, err
    table.sort({ 2, 1 }, function(x, y)
      ok, err = process.send(pid, "fill", 1001)
      return x < y
    end)
    check.fails(errors.LIMIT_EXCEEDED, ok, err, "mailbox full on t:a")
    check.ok(tostring(err):find("mailbox full", 1, true), tostring(err))
    process.terminate(pid)
  end
  -- Memory quota: a process over its quota ends; the host keeps serving.
  local r = process.spawn("t:hog", "t:small")
  check.ok(r, "hog spawned")
  time.sleep("200ms")
  local ok = process.spawn("t:hog", "t:small")
  check.ok(ok, "host t:small still spawns after a memory error")
  -- max_processes on t:small is 5.
  local pids, lerr = {}, nil
  for i = 1, 10 do
    local p, e = process.spawn("t:sleeper", "t:small", "10s")
    if not p then lerr = e break end
    pids[#pids + 1] = p
  end
  check.ok(lerr ~= nil, "max_processes enforced")
  check.eq(lerr:kind(), errors.LIMIT_EXCEEDED)
  -- spawn_rate on t:rate is 5 per second: a burst of 20 is cut off.
  local ok_n, rerr = 0, nil
  for _ = 1, 20 do
    local p, e = process.spawn("t:value_exit", "t:rate", 1)
    if p then ok_n = ok_n + 1 else rerr = e break end
  end
  check.ok(rerr ~= nil and ok_n <= 6, "spawn rate enforced after " .. ok_n)
  check.eq(rerr:kind(), errors.LIMIT_EXCEEDED)
  check.ok(tostring(rerr):find("spawn rate", 1, true), tostring(rerr))
  -- Payload size limit (1 MiB default).
  local big = string.rep("x", 5 * 1024 * 1024)
  check.fails(errors.LIMIT_EXCEEDED, process.send(process.pid(), "big", big))
  return spinner ~= nil
end }
