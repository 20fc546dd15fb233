-- K senders on q:snd send 1 MiB messages to a process on q:stp that reads
-- and drops them, each until a send fails; the test stops q:stp (SIGSTOP)
-- once "ready" is out. Each failure goes to main, which waits for WANT of
-- them: the senders' credit for the sink is used up, so each send waits
-- for its send_timeout (1 s on q:snd), or until q:stp is found dead.
local M = {}

function M.drain()
  local inbox = process.inbox()
  while true do inbox:receive() end
end

function M.sender(main, sink)
  local big = string.rep("y", (1 << 20) - 1024)
  while true do
    local r, err = process.send(sink, "t", big)
    if not r then
      process.send(main, "refused", tostring(err))
      return
    end
  end
end

function M.main(k, want)
  k, want = tonumber(k), tonumber(want)
  local sink = assert(process.spawn("q:drain", "q:stp"))
  for _ = 1, k do
    assert(process.spawn("q:sender", "q:snd", process.pid(), sink))
  end
  print("ready")
  local inbox = process.inbox()
  local n, other = 0, nil
  while n < want do
    local text = inbox:receive():payload()
    if text:find("send_timeout", 1, true) or text:find("went down", 1, true)
        or text:find("not reading", 1, true) then n = n + 1
    else other = other or text end
  end
  print("refused " .. n .. (other and (" other: " .. other) or ""))
  return n
end

return M
