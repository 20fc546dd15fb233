-- Every kind of checked call, on this host and across hosts, run under
-- --audit all: each waits for its decision to be logged, then has its
-- effect. Also from pcall, a coroutine and __index (all can wait), and
-- from a table.sort comparator (a C call: cannot wait, so Unavailable). Prints one line per
-- step, "done" at the end.
local function step(name, ok, err)
  if not ok then error(name .. ": " .. tostring(err)) end
  print(name)
end

return { main = function()
  local ev = process.events()
  for _, host in ipairs({ "cli:h", "cli:h2" }) do
    local p = assert(process.spawn_linked_monitored("cli:sink", host))
    step("spawn_linked_monitored " .. host, p)
    step("send " .. host, process.send(p, "x", 1))
    step("unmonitor " .. host, process.unmonitor(p))
    step("monitor " .. host, process.monitor(p))
    step("unlink " .. host, process.unlink(p))
    step("link " .. host, process.link(p))
    step("unlink again " .. host, process.unlink(p))
    step("cancel " .. host, process.cancel(p, "50ms"))
    local e = ev:receive()
    step("EXIT after cancel " .. host, e.kind == process.event.EXIT and e.from == p, e.kind)
    local q = assert(process.with_context({ k = 1 }):spawn_monitored("cli:sink", host))
    step("builder spawn " .. host, q)
    step("terminate " .. host, process.terminate(q))
    e = ev:receive()
    step("EXIT after terminate " .. host, e.kind == process.event.EXIT and e.from == q, e.kind)
    step("exec " .. host, process.exec("cli:answer", host, "x") == "x")
  end
  step("register", process.registry.register("everyop", process.pid()))
  step("lookup", process.registry.lookup("everyop") == process.pid())
  step("send by name", process.send("everyop", "x", 2))
  step("unregister", process.registry.unregister("everyop"))
  local sink = assert(process.spawn("cli:sink", "cli:h"))
  step("register a foreign PID", process.registry.register("everyop_sink", sink))
  step("send in pcall", select(2, pcall(process.send, sink, "x", 3)))
  step("send in a coroutine", coroutine.wrap(function() return process.send(sink, "x", 4) end)())
  local t = setmetatable({}, { __index = function(_, k) return process.send(sink, "x", k) end })
  step("send in __index (yieldable in Lua 5.4)", t.five)
  local r
  table.sort({ 2, 1 }, function(x, y) r = r or { process.send(sink, "x", x) }; return x < y end)
  step("send in a table.sort comparator (a C call) is Unavailable", r[1] == nil and r[2]:kind() == "Unavailable"
       and tostring(r[2]):find("cannot wait here", 1, true), tostring(r[2]))
  return "done"
end }
