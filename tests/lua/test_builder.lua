-- SpawnBuilder: context, actor, scope, name (spawn-or-signal), messages.
local check = require("check")
local ctx = require("ctx")

return { main = function()
  local reports = process.listen("ctx_report")
  local b = process.with_context({ request_id = "r-1" })
  local b2 = b:with_context({ extra = "x" })
  check.ok(b ~= b2, "with_context returns a new builder")
  -- Context inherited by the child and, through a plain spawn, the grandchild.
  for _, host in ipairs(check.HOSTS) do
    b2:with_message("hello", 1, 2):spawn("t:ctx_reporter", host, process.pid(), host)
    local r = check.recv(reports, "3s", "child report")
    check.eq(r.request_id, "r-1")
    check.eq(r.all.extra, "x")
    check.eq(#r.msgs, 1, "queued message before the first step")
    check.eq(r.msgs[1].topic, "hello")
    check.eq(r.msgs[1].payload[2], 2)
    check.eq(r.msgs[1].from, nil, "queued messages have no sender")
    r = check.recv(reports, "3s", "grandchild report")
    check.eq(r.request_id, "r-1", "grandchild inherits")
  end
  -- The receiver is immutable.
  b:spawn("t:ctx_reporter", "t:a", process.pid())
  check.eq(check.recv(reports).all.extra, nil, "original builder unchanged")
  check.eq(ctx.get("request_id"), nil, "the caller's own context is unchanged")
  -- Actor and scope.
  b:with_actor({ id = "robot" }):with_scope({ "t:trusted", "t:extra" }):spawn("t:ctx_reporter", "t:b", process.pid())
  local r = check.recv(reports)
  check.eq(r.actor, "robot")
  check.eq(r.scope, "t:trusted,t:extra")
  -- Spawn-or-signal.
  local name = "singleton_" .. process.pid()
  local p1 = check.ok(b:with_name(name):with_message("m", "first"):spawn("t:ctx_reporter", "t:b", process.pid()))
  check.eq(check.recv(reports).msgs[1].payload, "first")
  check.eq(process.registry.lookup(name), p1, "named at spawn")
  local p2 = check.ok(b:with_name(name):with_message("m", "second"):spawn("t:ctx_reporter", "t:a", process.pid()))
  check.eq(p2, p1, "name taken: the holder's PID, no spawn")
  local r2 = channel.select({ reports:case_receive(), require("time").after("150ms"):case_receive() })
  check.ok(r2.channel ~= reports, "no second process started")
  -- Misuse raises.
  check.ok(not pcall(b.with_name, b, ""), "empty name")
  check.ok(not pcall(b.with_message, b, "@x"), "@ topic")
  check.ok(not pcall(b.with_actor, b, {}), "actor without id")
  check.ok(not pcall(process.with_context, "x"), "context must be a table")
  return true
end }
