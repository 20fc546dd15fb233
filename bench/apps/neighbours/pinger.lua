-- The victim's pinger: spawns its echo on ECHO_HOST, warms up, says
-- "ready" to MAIN, then on "go" {n, secs, gap} measures up to n round
-- trips (one at a time, 'gap' apart) for at most 'secs' seconds, each
-- from time.now() before the send to time.now() after the answer, and
-- sends MAIN a "result": {tag, n, p50, p99, max, wake} in nanoseconds
-- (wake: the p99 of how long each time.sleep(gap) took), and 'err' if a
-- probe went unanswered (it stops there: every wait has a guard).
local time = require("time")

local PROBE_GUARD = "5s"

return { main = function(main, tag, echo_host)
  local me = process.pid()
  local pong = process.listen("pong")
  local go = process.listen("go")
  local echo = assert(process.spawn("nb:echo", echo_host, me))
  local send, now = process.send, time.now
  local seq = 0

  -- One round trip in nanoseconds, or nil and why.
  local function probe()
    local guard = time.after(PROBE_GUARD)
    seq = seq + 1
    local t0 = now()
    local ok, err = send(echo, "ping", seq)
    if not ok then return nil, "send refused: " .. tostring(err) end
    while true do
      local r = channel.select({ pong:case_receive(), guard:case_receive() })
      if r.channel ~= pong then
        return nil, "no answer within " .. PROBE_GUARD
      end
      if r.value == seq then return now():sub(t0):nanoseconds() end
    end
  end

  for _ = 1, 200 do assert(probe()) end
  send(main, "ready", tag)
  local g = go:receive()
  local samples, wakes, why = {}, {}, nil
  local t_end = now():add(math.floor(g.secs * 1e9))
  for i = 1, g.n do
    local d, err = probe()
    if not d then why = err; break end
    samples[i] = d
    if now():after(t_end) then break end
    local t0 = now()
    time.sleep(g.gap)
    wakes[i] = now():sub(t0):nanoseconds()
  end
  local function pct(t, p)
    if #t == 0 then return -1 end
    table.sort(t)
    return t[math.max(1, math.ceil(p * #t))]
  end
  send(main, "result", { tag = tag, n = #samples, p50 = pct(samples, 0.50),
                         p99 = pct(samples, 0.99), max = pct(samples, 1),
                         wake = pct(wakes, 0.99), err = why })
  return true
end }
