-- Waits for a PID on "go", sends it 'n' messages on "w" (1..n), tells
-- 'report' ("sent", how many sends returned true), and ends.
return { main = function(report, n)
  local go = process.listen("go")
  local to = go:receive()
  local ok = 0
  for i = 1, n do
    if process.send(to, "w", i) then ok = ok + 1 end
  end
  process.send(report, "sent", ok)
  return true
end }
