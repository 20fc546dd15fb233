-- The new code: reports who it is, then fails on "fail".
return { main = function(parent, state)
  process.send(parent, "upgraded", { pid = process.pid(), id = process.id(), state = state })
  process.listen("fail"):receive()
  error("upgraded code failed")
end }
