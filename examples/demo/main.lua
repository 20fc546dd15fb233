-- Dispatcher: spawns workers on both hosts, registers itself by name,
-- sends each worker a job and collects the answers.
local time = require("time")

local function main(n)
  n = tonumber(n) or 6
  process.registry.register("dispatcher")
  local results = process.listen("result", { message = true })
  local hosts = { "demo:front", "demo:workers" }
  for i = 1, n do
    local host = hosts[(i % #hosts) + 1]
    local pid, err = process.spawn("demo:worker", host, i)
    if not pid then return nil, err end
  end
  local sum, deadline = 0, time.after("5s")
  for _ = 1, n do
    local r = channel.select({ results:case_receive(), deadline:case_receive() })
    if r.channel == deadline then return nil, "timed out waiting for workers" end
    local msg = r.value
    local job = msg:payload()
    print(string.format("job %d: %d^2 = %d  (worker %s)", job.i, job.i, job.square, msg:from()))
    sum = sum + job.square
  end
  return { jobs = n, sum_of_squares = sum }
end

return { main = main }
