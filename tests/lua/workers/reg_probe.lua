-- Runs in group t:regpid (registry allowed for callers on t:a, names rp_*;
-- foreign PIDs of t:a): registers, looks up, sends to and unregisters a
-- name for itself, registers one for a child, and reports each outcome,
-- with what security.can said, to 'parent'.
local security = require("security")

local function kind(ok, err)
  if ok then return "ok" end
  return err and err:kind() or tostring(ok)
end

return { main = function(parent)
  local me = "rp_" .. process.pid()
  local child = assert(process.spawn("t:blocker", "t:a"))
  local out = {
    can_register = security.can("process.registry.register", me),
    can_unregister = security.can("process.registry.unregister", me),
    can_lookup = security.can("process.registry.lookup", me),
    register = kind(process.registry.register(me)),
    lookup = kind(process.registry.lookup(me)),
    send_by_name = kind(process.send(me, "self", 1)),
    unregister = kind(process.registry.unregister(me)),
    register_child = kind(process.registry.register(me .. "_child", child)),
    unregister_child = kind(process.registry.unregister(me .. "_child")),
    other_name = kind(process.registry.register("elsewhere_" .. process.pid())),
    other_lookup = kind(process.registry.lookup("elsewhere_" .. process.pid())),
  }
  process.terminate(child)
  process.send(parent, "reg", out)
end }
