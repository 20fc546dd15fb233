-- On "go", sends one message to 'target' with topic "orphan" (its host is
-- stopped: the request waits there until the test kills this host).
return { main = function(target)
  process.listen("go"):receive()
  process.send(target, "orphan", 1)
end }
