local check = require("check")
local time = require("time")

return { main = function()
  -- Messages sent before any subscription wait for it (no inbox yet, so
  -- nothing falls back).
  process.send(process.pid(), "later", "early")
  time.sleep("20ms")
  check.eq(check.recv(process.listen("later"), "1s", "later"), "early",
    "queued before listen")
  -- Raw values by default; Message objects with {message = true}.
  local raw = process.listen("raw")
  local msgs = process.listen("msgs", { message = true })
  check.eq(process.listen("raw"), raw, "same channel for the same topic")
  check.eq(process.inbox(), process.inbox(), "same inbox")
  process.send(process.pid(), "raw", "v")
  check.eq(check.recv(raw), "v", "raw value")
  process.send(process.pid(), "msgs", 1, 2)
  local m = check.recv(msgs)
  check.eq(m:topic(), "msgs")
  check.eq(m:from(), process.pid())
  check.eq(m:payload()[2], 2)
  check.ok(tostring(m):find("msgs", 1, true), "Message tostring")
  -- Errors.
  check.fails(errors.INVALID, process.listen(""))
  check.fails(errors.INVALID, process.listen("@inbox"))
  -- Fallback: unmatched topics go to the inbox, with their topic kept;
  -- a specific listener takes its own topic.
  for _, host in ipairs({ "t:a", "t:b" }) do
    local ready = process.listen("ready")
    local report = process.listen("report")
    local pid = process.spawn("t:inbox_fallback", host, process.pid())
    check.recv(ready, "2s", "ready")
    process.send(pid, "specific", 1)
    process.send(pid, "random", 2)
    process.send(pid, "specific", 3)
    local got = check.recv(report, "2s", "report")
    -- Order holds per channel; across channels it depends on arrival.
    check.eq(#got, 3)
    local seen = {}
    for i, v in ipairs(got) do seen[v] = i end
    check.ok(seen["specific:1"] and seen["specific:3"] and
      seen["specific:1"] < seen["specific:3"], "listener order")
    check.ok(seen["inbox:random:2"], "unmatched topic in the inbox")
  end
  -- unlisten closes the channel; later messages fall back to the inbox.
  local ch = process.listen("gone")
  check.eq(process.unlisten(ch), true, "unlisten")
  local v, ok = ch:receive()
  check.eq(v, nil)
  check.eq(ok, false, "closed after unlisten")
  local ok2, err = process.unlisten(ch)
  check.eq(ok2, false)
  check.eq(err:kind(), errors.NOT_FOUND)
  local inbox = process.inbox()
  process.send(process.pid(), "gone", "fell back")
  local fm = check.recv(inbox)
  check.eq(fm:topic(), "gone")
  check.eq(fm:payload(), "fell back")
  return true
end }
