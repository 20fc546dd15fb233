-- Upgrades while a coroutine of its old code waits for the broker's
-- answer to a registry lookup: the answer must find no task (the old
-- code's tasks are gone), not a freed one.
local time = require("time")
return { main = function(parent)
  coroutine.spawn(function()
    for _ = 1, 100000 do process.registry.lookup("upg_nobody") end
  end)
  time.sleep("5ms") -- the coroutine is now waiting for an answer
  process.upgrade("t:upgraded", parent, { busy = true })
  error("upgrade returned")
end }
