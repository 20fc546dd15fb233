local check = require("check")

return { main = function()
  local me = process.pid()
  local name = "reg_" .. tostring(os.time()) .. "_" .. me
  check.eq(process.registry.register(name), true, "register")
  check.eq(process.registry.register(name), true, "idempotent")
  check.eq(process.registry.lookup(name), me, "lookup")
  -- Send by name.
  local inbox = process.inbox()
  check.eq(process.send(name, "by_name", 5), true)
  check.eq(check.recv(inbox):payload(), 5, "delivered by name")
  -- Another process cannot take the name; on either host.
  local reg = process.listen("registered")
  for _, host in ipairs({ "t:a", "t:b" }) do
    local pid = process.spawn("t:registrar", host, me, name)
    local v = check.recv(reg, "2s", "registrar " .. host)
    check.eq(v[1], false, "taken name refused")
    check.eq(v[2], errors.ALREADY_EXISTS, "kind")
    process.send(pid, "quit")
  end
  -- unregister: true once, then false; lookup fails.
  check.eq(process.registry.unregister(name), true)
  check.eq(process.registry.unregister(name), false)
  check.fails(errors.NOT_FOUND, process.registry.lookup(name))
  check.fails(errors.NOT_FOUND, process.send(name, "x"))
  -- A name of a process on the other host resolves from here, and is
  -- released when that process exits.
  local other = name .. "_b"
  local pid = process.spawn("t:registrar", "t:b", me, other)
  check.eq(check.recv(reg)[1], true, "registered on b")
  check.eq(process.registry.lookup(other), pid)
  check.eq(process.send(other, "quit"), true, "send by name across hosts")
  local time = require("time")
  local gone = false
  for _ = 1, 100 do
    if not process.registry.lookup(other) then gone = true break end
    time.sleep("10ms")
  end
  check.ok(gone, "name released at exit")
  -- Errors.
  check.fails(errors.INVALID, process.registry.register(""))
  check.fails(errors.INVALID, process.registry.register("x", "not a pid"))
  check.fails(errors.NOT_FOUND, process.registry.register("x", "{t:a|0xfffff}"))
  check.fails(errors.PERMISSION_DENIED, process.registry.register("x", pid))
  return true
end }
