local check = require("check")

return { main = function()
  local pid = process.pid()
  check.eq(type(pid), "string", "pid type")
  check.ok(pid:match("^{t:a|0x%x%x%x%x%x+}$"), "pid format: " .. pid)
  check.eq(process.pid(), pid, "pid is stable")
  check.eq(process.id(), "t:test_identity", "process.id")
  -- PIDs are unique: spawned children get fresh ones.
  local a = process.spawn("t:exit_now", "t:a")
  local b = process.spawn("t:exit_now", "t:a")
  check.ok(a ~= b and a ~= pid, "fresh pids")
  local c = process.spawn("t:exit_now", "t:b")
  check.ok(c:match("^{t:b|0x"), "pid names its host: " .. tostring(c))
  return true
end }
