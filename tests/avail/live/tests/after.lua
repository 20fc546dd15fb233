-- The witness of the timed-out test is alive: its host (lt:h2) was not
-- killed with the timed-out test's host (lt:h1). (Waits for its name: on
-- a slow machine the first test may time out before the witness, which
-- lives on, has registered it; a witness killed with its host never does.)
return { main = function()
  local time = require("time")
  local w = process.registry.lookup("witness")
  while not w do
    time.sleep("10ms")
    w = process.registry.lookup("witness")
  end
  assert(process.send(w, "hello", 1))
  return true
end }
