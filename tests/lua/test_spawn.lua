local check = require("check")

return { main = function()
  local args = process.listen("args")
  for _, host in ipairs({ "t:a", "t:b" }) do
    local pid = check.ok(process.spawn("t:reply_args", host, process.pid(), "x", 2, { k = true }))
    check.ok(type(pid) == "string")
    local v = check.recv(args, "2s", "args from " .. host)
    check.eq(v.n, 3, "arg count")
    check.eq(v[1], "x")
    check.eq(v[2], 2)
    check.eq(v[3].k, true)
  end
  -- Many spawns in a row: a spawning task gives way to its children now
  -- and then (lspawn.c); each call still returns its own PID, from the
  -- main thread, a pcall, a plain coroutine and a call that cannot yield.
  local n, pids = 0, {}
  local function spawn_many(k, tag)
    for i = 1, k do
      local pid = check.ok(process.spawn("t:reply_args", "t:a", process.pid(), tag, i))
      check.ok(type(pid) == "string" and not pids[pid], "a new PID")
      pids[pid] = true
      n = n + 1
    end
    return tag
  end
  spawn_many(100, "main")
  check.eq(select(2, pcall(spawn_many, 100, "pcall")), "pcall")
  local co = coroutine.wrap(function() return spawn_many(100, "co"), "done" end)
  local r1, r2 = co()
  check.eq(r1, "co")
  check.eq(r2, "done")
  local t = { 2, 1 }
  table.sort(t, function(x, y)
    if n < 340 then spawn_many(40, "sort") end
    return x < y
  end)
  check.eq(n, 340)
  local got = {}
  for _ = 1, n do
    local v = check.recv(args, "2s", "args from a spawned child")
    got[v[1]] = (got[v[1]] or 0) + 1
  end
  check.eq(got.main, 100)
  check.eq(got.pcall, 100)
  check.eq(got.co, 100)
  check.eq(got.sort, 40)
  -- Errors.
  check.fails(errors.INVALID, process.spawn("t:echo"))
  check.fails(errors.NOT_FOUND, process.spawn("t:nope", "t:a"))
  check.fails(errors.NOT_FOUND, process.spawn("t:nope", "t:b"))
  check.fails(errors.NOT_FOUND, process.spawn("t:echo", "t:nohost"))
  local lp, lerr = process.spawn("t:check", "t:a")
  check.fails(errors.NOT_FOUND, lp, lerr, "library")
  -- An entry pinned to a host runs only there.
  check.fails(errors.NOT_FOUND, process.spawn("t:hog", "t:a"))
  check.fails(errors.INVALID, process.spawn("t:bad_syntax", "t:a"))
  local err = check.fails(errors.INVALID, process.spawn("t:bad_syntax", "t:b"))
  check.ok(tostring(err):find("bad_syntax.lua:1", 1, true), tostring(err))
  check.fails(errors.INVALID, process.spawn("t:echo", "t:a", function() end))
  return true
end }
