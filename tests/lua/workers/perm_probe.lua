-- test_permissions: makes ONE process.* call, in the scope the test gave
-- it (a group lacking one permission, or all of them), reports the
-- outcome to the test on topic "perm", then forwards its events (EXIT,
-- LINK_DOWN) until "quit". Setup steps an operation needs first (monitor
-- before unmonitor, ...) must succeed, else the probe fails loudly.
local CHILD = "t:perm_child"

local function setup(what, v, err)
  if v == nil or v == false then error("setup " .. what .. " failed: " .. tostring(err), 2) end
  return v
end

local function builder()
  return setup("process.with_context", process.with_context({}))
end

local ops = {}
function ops.spawn(s) return process.spawn(CHILD, s.host, s.test, s.tag) end
function ops.spawn_monitored(s) return process.spawn_monitored(CHILD, s.host, s.test, s.tag) end
function ops.spawn_linked(s) return process.spawn_linked(CHILD, s.host, s.test, s.tag) end
function ops.spawn_linked_monitored(s) return process.spawn_linked_monitored(CHILD, s.host, s.test, s.tag) end
function ops.exec(s) return process.exec(CHILD, s.host, s.test, s.tag) end
function ops.b_spawn(s) return builder():spawn(CHILD, s.host, s.test, s.tag) end
function ops.b_spawn_monitored(s) return builder():spawn_monitored(CHILD, s.host, s.test, s.tag) end
function ops.b_spawn_linked(s) return builder():spawn_linked(CHILD, s.host, s.test, s.tag) end
function ops.b_spawn_linked_monitored(s) return builder():spawn_linked_monitored(CHILD, s.host, s.test, s.tag) end
-- Spawn-or-signal: a free name is registered for the child; a taken one
-- gets the queued message instead.
function ops.b_spawn_named(s) return builder():with_name(s.name):spawn(CHILD, s.host, s.test, s.tag) end
function ops.b_signal(s)
  return builder():with_name(s.name):with_message("poke", s.tag):spawn(CHILD, s.host, s.test, s.tag)
end
function ops.send(s) return process.send(s.target, "poke", s.tag) end
function ops.terminate(s) return process.terminate(s.target) end
function ops.cancel(s) return process.cancel(s.target) end
function ops.monitor(s) return process.monitor(s.target) end
function ops.unmonitor(s)
  setup("monitor", process.monitor(s.setup or s.target))
  return process.unmonitor(s.target)
end
function ops.link(s) return process.link(s.target) end
function ops.unlink(s)
  setup("link", process.link(s.setup or s.target))
  return process.unlink(s.target)
end
function ops.register(s) return process.registry.register(s.name) end
function ops.lookup(s)
  setup("register", process.registry.register(s.name))
  return process.registry.lookup(s.name)
end
-- A foreign PID: the target the test made.
function ops.register_foreign(s) return process.registry.register(s.name, s.target) end
function ops.unregister(s)
  setup("register", process.registry.register(s.name))
  return process.registry.unregister(s.name)
end
function ops.with_context(_) return process.with_context({ k = 1 }) end
function ops.b_with_context(_) return builder():with_context({ k = 2 }) end
function ops.with_actor(_) return builder():with_actor({ id = "someone-else" }) end
function ops.with_scope(_) return builder():with_scope({ "t:perm_full" }) end

return { main = function(s)
  process.set_options({ trap_links = true })
  local ev = process.events()
  local quit = process.listen("quit")
  local fn = assert(ops[s.op], "unknown op " .. tostring(s.op))
  local v, err = fn(s)
  local r = { tag = s.tag, what = "result", ok = v ~= nil and v ~= false }
  if type(v) == "userdata" then r.value = "builder" else r.value = v end
  if err ~= nil then
    r.kind = type(err) == "userdata" and err:kind() or type(err)
    r.msg = tostring(err)
  end
  process.send(s.test, "perm", r)
  while true do
    local x = channel.select({ ev:case_receive(), quit:case_receive() })
    if x.channel == quit then return "quit" end
    process.send(s.test, "perm", { tag = s.tag, what = "event", kind = x.value.kind, from = x.value.from })
  end
end }
