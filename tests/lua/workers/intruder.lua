-- On a host whose ceiling allows only "tester*" actors: starts a local
-- child with another actor (the host's policy allows it), and that child
-- sends across hosts. The broker sees an actor outside the ceiling: fatal
-- for this host.
return { main = function(parent)
  process.with_context({}):with_actor({ id = "intruder" }):spawn("t:reply_args", "t:ceil", parent, "from intruder")
  process.listen("never"):receive()
end }
