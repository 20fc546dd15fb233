-- Failures cascade through chains and stars of links, across hosts.
local check = require("check")

return { main = function()
  local ev = process.events()
  local leaf = process.listen("leaf")
  for _, hosts in ipairs({ { "t:a" }, { "t:a", "t:b" } }) do
    -- Chain of 20: the leaf fails, the head (which we monitor) dies.
    local head = check.ok(process.spawn_monitored("t:chain", hosts[1], 20, hosts, process.pid()))
    local l = check.recv(leaf, "3s", "leaf")
    process.send(l, "fail")
    local e = check.event(ev, process.event.EXIT, head, "5s", "head of the chain")
    check.ok(tostring(e.result.error):find("linked process failed", 1, true), tostring(e.result.error))
    check.fails(errors.NOT_FOUND, process.send(l, "x"))
  end
  -- Star: a hub on host t:b links itself to ten blockers on both hosts;
  -- terminating the hub ends every one of them.
  local rd = process.listen("blocker_ready")
  local leaves = {}
  for i = 1, 10 do
    process.spawn("t:blocker", check.HOSTS[(i % 2) + 1], process.pid())
    local b = check.recv(rd)
    leaves[#leaves + 1] = b
    process.monitor(b)
  end
  local hub = check.ok(process.spawn_monitored("t:star_hub", "t:b", leaves, process.pid()))
  check.recv(process.listen("hub_ready"), "3s", "hub")
  process.terminate(hub)
  for _, b in ipairs(leaves) do
    local e = check.event(ev, process.event.EXIT, b, "3s", "star leaf")
    check.ok(tostring(e.result.error):find("linked process failed", 1, true))
  end
  return true
end }
