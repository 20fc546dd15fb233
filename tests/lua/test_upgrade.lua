-- process.upgrade keeps PID, names, links and monitors.
local check = require("check")

return { main = function()
  process.set_options({ trap_links = true })
  local ev = process.events()
  local rd = process.listen("up_ready")
  local up = process.listen("upgraded")
  for _, host in ipairs(check.HOSTS) do
    local name = "upg_" .. host .. "_" .. process.pid()
    local pid = check.ok(process.spawn_linked_monitored("t:upgrader", host, process.pid(), name))
    check.eq(check.recv(rd), pid)
    process.send(pid, "go", { counter = 3 })
    local info = check.recv(up, "3s", "upgraded report")
    check.eq(info.pid, pid, "PID kept")
    check.eq(info.id, "t:upgraded", "new definition")
    check.eq(info.state.counter, 3, "state passed")
    check.eq(process.registry.lookup(name), pid, "name kept")
    process.send(name, "fail")
    local e = check.event(ev, process.event.LINK_DOWN, pid, "3s", "link kept")
    check.ok(tostring(e.result.error):find("upgraded code failed", 1, true))
    check.event(ev, process.event.EXIT, pid, "3s", "monitor kept")
    -- A request of the old code in flight when it upgrades: its answer
    -- reaches nobody (it used to reach a freed task).
    for _ = 1, 5 do
      local busy = check.ok(process.spawn_monitored("t:upgrader_busy", host, process.pid()))
      local binfo = check.recv(up, "3s", "busy upgraded report")
      check.eq(binfo.pid, busy, "PID kept (busy)")
      check.eq(binfo.state.busy, true, "state passed (busy)")
      process.send(busy, "fail")
      local be = check.event(ev, process.event.EXIT, busy, "3s", "busy upgraded ends")
      -- Its own error, not its host's death.
      check.ok(tostring(be.result.error):find("upgraded code failed", 1, true))
    end
  end
  return true
end }
