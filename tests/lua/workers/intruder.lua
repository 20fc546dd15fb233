-- On a host whose ceiling allows only "tester*" actors: tries to start a
-- local child with another actor (the host's policy allows with_actor).
-- The host itself refuses it, as the broker refuses such a spawn from
-- another host. Reports what happened to 'parent' on topic "args".
return { main = function(parent)
  local pid, err = process.with_context({}):with_actor({ id = "intruder" }):spawn("t:reply_args", "t:ceil", parent, "from intruder")
  process.send(parent, "args", pid == nil and err:kind() or "spawned", tostring(err))
  local pid2, err2 = process.with_context({}):with_scope({ "t:limited" }):spawn("t:reply_args", "t:ceil", parent, "from intruder")
  process.send(parent, "args", pid2 == nil and err2:kind() or "spawned", tostring(err2))
end }
