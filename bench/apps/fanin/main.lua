-- Receives P x K messages from P producers on HOST, working a little on
-- each; prints "FIGURE <messages/s>" and "LOST <n> REFUSED <n>" (lost:
-- accepted by a producer but never received; refused: sends that failed).
local time = require("time")

return { main = function(p, k, host)
  p = math.tointeger(tonumber(p)) or 4
  k = math.tointeger(tonumber(k)) or 250000
  host = host or "bench:b"
  local ch = process.listen("m")
  local done = process.listen("done")
  local me = process.pid()
  local t0 = time.now()
  for _ = 1, p do assert(process.spawn("bench:producer", host, me, k)) end
  local got, sent, refused, finished, s = 0, 0, 0, 0, 0
  while finished < p or got < sent do
    local r = channel.select({ ch:case_receive(), done:case_receive() })
    if r.channel == ch then
      got = got + 1
      for j = 1, 20 do s = s + j end
    else
      finished = finished + 1
      sent = sent + r.value.sent
      refused = refused + r.value.refused
    end
  end
  local secs = time.now():sub(t0):nanoseconds() / 1e9
  print(string.format("FIGURE %.0f", got / secs))
  print(string.format("LOST %d REFUSED %d", sent - got, refused))
  return sent - got == 0 and refused == 0
end }
