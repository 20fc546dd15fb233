-- Registers a name, starts a worker on its own host and asks it to
-- square a number. Everything here is allowed by the tenant's scope; a
-- spawn of another tenant's entry, or onto another tenant's host, is not
-- (see policy_test.yaml).
return { main = function(n)
  local ns = process.id():match("^([^.:]+)")
  assert(process.registry.register(ns .. ".dispatcher"))
  local replies = process.listen("reply")
  local pid = assert(process.spawn(ns .. ".app:worker", ns .. ":processes"))
  process.send(pid, "square", tonumber(n) or 7)
  local r = channel.select({ replies:case_receive() })
  return r.value
end }
