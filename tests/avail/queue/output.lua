-- Tenant tb's printer puts 900 KiB on standard output (which the test does
-- not read), tells main, then prints LINES lines of 1,000 bytes. Tenant
-- ta's ping-pong between q:px and q:py must complete all the same; then
-- main starts host q:pz, which `ward -v` reports on standard error.
local M = {}

function M.printer(main, lines)
  print(string.rep("p", 900 * 1024))
  process.send(main, "started", true)
  local line = string.rep("l", 999)
  for _ = 1, tonumber(lines) do print(line) end
end

function M.pong()
  local inbox = process.inbox()
  while true do
    local m = inbox:receive()
    process.send(m:from(), "pong", m:payload())
  end
end

function M.marker()
  return true
end

function M.main(n, lines)
  n = tonumber(n)
  local inbox = process.inbox()
  assert(process.spawn("q:printer", "q:pr", process.pid(), lines))
  assert(inbox:receive():topic() == "started")
  local peer = assert(process.spawn("q:pong", "q:py"))
  for i = 1, n do
    assert(process.send(peer, "ping", i))
    assert(inbox:receive():payload() == i)
  end
  assert(process.exec("q:marker", "q:pz"))
  return n
end

return M
