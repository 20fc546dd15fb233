-- Links: LINK_DOWN on abnormal exits only; trap_links on and off.
local check = require("check")

return { main = function()
  -- Options.
  check.eq(process.get_options().trap_links, false, "default off")
  local ok, err = process.set_options({ trap_links = "yes" })
  check.eq(ok, false)
  check.eq(err:kind(), errors.INVALID)
  ok, err = process.set_options({ bogus = true })
  check.eq(ok, false)
  check.ok(tostring(err):find("not supported", 1, true))
  check.eq(select(2, process.set_options(5)):kind(), errors.INVALID)
  check.eq(process.set_options({ trap_links = true }), true)
  check.eq(process.get_options().trap_links, true)
  local ev = process.events()
  for _, host in ipairs(check.HOSTS) do
    -- Abnormal exit: LINK_DOWN with the error.
    local pid = check.ok(process.spawn_linked("t:error_exit", host, "linked boom"))
    local e = check.event(ev, process.event.LINK_DOWN, pid, "3s", "link down on " .. host)
    check.eq(e.kind, "pid.link.down")
    check.ok(tostring(e.result.error):find("linked boom", 1, true))
    -- Normal exit: no LINK_DOWN.
    pid = check.ok(process.spawn_linked_monitored("t:value_exit", host, 1))
    check.event(ev, process.event.EXIT, pid)
    check.no_event(ev, process.event.LINK_DOWN, pid, "150ms", "normal exit")
    -- Without trap_links a LINK_DOWN ends the process.
    local mid = check.ok(process.spawn_monitored("t:middle", host, host, false))
    e = check.event(ev, process.event.EXIT, mid)
    check.ok(tostring(e.result.error):find("linked process failed", 1, true), tostring(e.result.error))
    -- With trap_links it arrives as an event.
    mid = check.ok(process.spawn_monitored("t:middle", host, host, true))
    e = check.event(ev, process.event.EXIT, mid)
    check.eq(e.result.value, "pid.link.down", "trapped LINK_DOWN")
    -- link() then the other side is terminated: LINK_DOWN.
    local rd = process.listen("blocker_ready")
    process.spawn("t:blocker", host, process.pid())
    local b = check.recv(rd)
    check.eq(process.link(b), true)
    check.eq(process.link(b), true, "link twice is fine")
    process.terminate(b)
    e = check.event(ev, process.event.LINK_DOWN, b)
    check.ok(tostring(e.result.error):find("process terminated", 1, true))
    -- unlink stops delivery.
    process.spawn("t:blocker", host, process.pid())
    b = check.recv(rd)
    process.link(b)
    check.eq(process.unlink(b), true)
    process.terminate(b)
    check.no_event(ev, process.event.LINK_DOWN, b, "200ms", "after unlink")
  end
  check.fails(errors.NOT_FOUND, process.link("{t:a|0xfffff}"))
  check.fails(errors.NOT_FOUND, process.link("{t:b|0xfffff}"))
  return true
end }
