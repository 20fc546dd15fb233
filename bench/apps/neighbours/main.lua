-- Noisy neighbours: main(LOAD, N, SECS [, GAP [, OUT]]). Starts the victim's two
-- pingers (same host: nb:v1 <-> nb:v1; other host: nb:v3 <-> nb:v2),
-- waits until both are warm, starts the attacker's LOAD, lets it run for
-- a moment, then has both pingers measure up to N round trips, GAP apart
-- (default "1ms"), for at most SECS seconds. Prints one line per pinger:
--   FIGURE same|other N P50_MS P99_MS MAX_MS WAKE_P99_MS [error...]
-- "NOTE ..." lines for what the loads report, and "DIED same|other why"
-- when a pinger or its echo did not come back. Every wait has a guard.
-- With OUT "error" these lines are not printed but returned as the
-- entry's failure message, which ward writes to stderr: bench/neighbours.sh
-- sends ward's stdout to /dev/null, where the print flood goes.
local time = require("time")

local SETTLE = "500ms"   -- load running before the measurement starts

-- LOAD -> { {kind, host, peer-host-or-"sink"}... }
local LOADS = {
  none = {},
  busy = { { "busy", "nb:v1" } },
  pcall = { { "pcall", "nb:v1" } },
  sort = { { "sort", "nb:v1" } },
  gsub = { { "gsub", "nb:v1" } },
  flood1m = { { "sink", "nb:a2" }, { "flood1m", "nb:a1", "sink" } },
  print = { { "print", "nb:a1" }, { "print", "nb:a2" } },
  names = { { "names", "nb:a1" }, { "names", "nb:a2" } },
  churn = { { "churn", "nb:a1", "nb:a2" }, { "churn", "nb:a2", "nb:a1" } },
}

return { main = function(load, n, secs, gap, outmode)
  local lines = {}
  local function say(s)
    if outmode == "error" then lines[#lines + 1] = s else print(s) end
  end
  local plan = LOADS[load]
  if not plan then error("unknown load " .. tostring(load)) end
  n = math.tointeger(tonumber(n)) or 2000
  secs = tonumber(secs) or 15
  gap = gap or "1ms"
  local me = process.pid()
  local ev = process.events()
  local ready = process.listen("ready")
  local results = process.listen("result")
  local notes = process.listen("note")
  local EXIT = process.event.EXIT

  local pingers = {
    same = assert(process.spawn_monitored("nb:pinger", "nb:v1", me, "same", "nb:v1")),
    other = assert(process.spawn_monitored("nb:pinger", "nb:v3", me, "other", "nb:v2")),
  }
  local tag_of = { [pingers.same] = "same", [pingers.other] = "other" }
  local got, out = {}, {}
  local loads = {}

  -- Wait on 'ch' until cond() or the guard; EXIT of a pinger is recorded.
  local function wait_for(ch, guard, on_value, cond)
    local g = time.after(guard)
    while not cond() do
      local r = channel.select({ ch:case_receive(), ev:case_receive(),
                                 notes:case_receive(), g:case_receive() })
      if r.channel == ch then
        on_value(r.value)
      elseif r.channel == notes then
        say("NOTE " .. tostring(r.value))
      elseif r.channel == ev then
        local e = r.value
        if e.kind == EXIT then
          local tag = tag_of[e.from]
          if tag and not out[tag] then
            out[tag] = "DIED " .. tag .. " " ..
              tostring(e.result and e.result.error or "returned early")
          elseif loads[e.from] and e.result and e.result.error then
            say("NOTE load " .. loads[e.from] .. " ended: " ..
                  tostring(e.result.error))
          end
        end
      else
        return false
      end
    end
    return true
  end
  local function both(set) return function()
    return (set.same or out.same) and (set.other or out.other) end end

  if not wait_for(ready, "30s", function(tag) got[tag] = true end, both(got)) then
    say("NOTE pingers not ready within 30s")
  end

  -- The attacker: another actor (and tenant) in its own scope.
  local attacker = process.with_context({})
    :with_actor({ id = "attacker", meta = { tenant = "attacker" } })
    :with_scope({ "nb:all" })
  local sink
  for _, l in ipairs(plan) do
    local kind, host, peer = l[1], l[2], l[3]
    if peer == "sink" then peer = sink end
    local pid = assert(attacker:spawn_monitored("nb:load", host, kind, me,
                                                secs + 10, peer))
    loads[pid] = kind .. "@" .. host
    if kind == "sink" then sink = pid end
  end
  time.sleep(SETTLE)

  for tag, pid in pairs(pingers) do
    if not out[tag] then
      process.send(pid, "go", { n = n, secs = secs, gap = gap })
    end
  end
  local res = {}
  if not wait_for(results, math.floor((secs + 20) * 1e9),
                  function(r) res[r.tag] = r end, both(res)) then
    say("NOTE no result within " .. (secs + 20) .. "s")
  end
  for _, tag in ipairs({ "same", "other" }) do
    local r = res[tag]
    if r then
      say(string.format("FIGURE %s %d %.3f %.3f %.3f %.3f%s", tag, r.n,
        r.p50 / 1e6, r.p99 / 1e6, r.max / 1e6, r.wake / 1e6,
        r.err and (" " .. r.err) or ""))
    else
      say(out[tag] or ("DIED " .. tag .. " no result"))
    end
  end
  if outmode == "error" then return nil, table.concat(lines, "\n") end
  return true
end }
