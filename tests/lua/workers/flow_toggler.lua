-- Registers and releases 'name' 'rounds' times (draining what arrives
-- on "x" meanwhile), then tells 'report' ("toggled") that it holds the
-- name no more, and drains "x" until "stop", counting what arrives
-- after that word; at "stop" it tells 'report' ("late") the count.
return { main = function(name, report, rounds)
  local x = process.listen("x")
  local stop = process.listen("stop")
  local function drain()
    local n = 0
    while channel.select({ x:case_receive() }, true).default == nil do
      n = n + 1
    end
    return n
  end
  for _ = 1, rounds do
    assert(process.registry.register(name))
    drain()
    assert(process.registry.unregister(name))
    drain()
  end
  drain()
  process.send(report, "toggled", process.pid())
  local late = 0
  while true do
    local r = channel.select({ x:case_receive(), stop:case_receive() })
    if r.channel == stop then break end
    late = late + 1
  end
  process.send(report, "late", late)
  return true
end }
