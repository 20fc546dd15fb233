-- Starts host lk:evil (by spawning lk:victim there, as its tenant) and
-- tells `main_pid` how that went: "ok <pid>" or "error: <error>".
return { main = function(main_pid)
  local b = process.with_context({}):with_actor({ id = "evil-tenant" })
  local pid, err = b:spawn("lk:victim", "lk:evil")
  process.send(main_pid, "started", pid and ("ok " .. pid) or ("error: " .. tostring(err)))
end }
