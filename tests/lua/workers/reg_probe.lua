-- Runs in group t:regpid (registry allowed for callers on t:a, names rp_*):
-- registers and unregisters a name for itself and for a child on t:b,
-- and reports each outcome, with what security.can said, to 'parent'.
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
    register = kind(process.registry.register(me)),
    unregister = kind(process.registry.unregister(me)),
    register_child = kind(process.registry.register(me .. "_child", child)),
    unregister_child = kind(process.registry.unregister(me .. "_child")),
    other_name = kind(process.registry.register("elsewhere_" .. process.pid())),
  }
  process.terminate(child)
  process.send(parent, "reg", out)
end }
