-- process.service entries: started by the broker, restarted with backoff
-- when they fail, given up after max_attempts.
local check = require("check")
local time = require("time")

local function lookup_wait(name, not_pid)
  for _ = 1, 300 do
    local p = process.registry.lookup(name)
    if p and p ~= not_pid then return p end
    time.sleep("10ms")
  end
  error("service name " .. name .. " never appeared")
end

return { main = function()
  -- t:svc_echo (auto_start) is up and answers.
  local pid = lookup_wait("svc_echo")
  local inbox = process.inbox()
  process.send("svc_echo", "ping")
  check.eq(check.recv(inbox, "2s", "pong"):payload(), pid)
  -- It fails: the broker restarts it (a new process registers the name).
  process.send(pid, "crash")
  local pid2 = lookup_wait("svc_echo", pid)
  check.ok(pid2 ~= pid, "restarted as a new process")
  process.send("svc_echo", "ping")
  check.eq(check.recv(inbox, "2s", "pong after restart"):payload(), pid2)
  -- t:svc_flaky always fails; max_attempts 2: three starts, then no more.
  process.registry.register("flaky_watch")
  local started = process.listen("started")
  -- The three starts, however slow the machine (60 s each at most); then
  -- no fourth within a second more (a slow machine can only hide a
  -- fourth, never make one).
  local seen = {}
  while #seen < 3 do
    local r = channel.select({ started:case_receive(), time.after("60s"):case_receive() })
    if r.channel ~= started then break end
    seen[#seen + 1] = r.value
  end
  check.eq(#seen, 3, "one start and two restarts")
  local r = channel.select({ started:case_receive(), time.after("1s"):case_receive() })
  check.ok(r.channel ~= started, "then given up: no fourth start")
  return true
end }
