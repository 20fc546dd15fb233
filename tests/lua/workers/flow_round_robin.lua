-- Sends 'n' messages of 'size' bytes to the PIDs in 'to', in turn, and
-- tells 'report' ("sent") how many sends returned true to each; at "go"
-- it sends "count" to each (after its messages: order per sender and
-- receiver), asking it to answer 'report'.
return { main = function(to, n, size, report)
  local blob = string.rep("y", size)
  local sent = {}
  for i = 1, #to do sent[i] = 0 end
  for i = 0, n - 1 do
    local k = i % #to + 1
    if process.send(to[k], "x", blob) then sent[k] = sent[k] + 1 end
  end
  local go = process.listen("go")
  process.send(report, "sent", sent)
  go:receive()
  for i = 1, #to do process.send(to[i], "count", report) end
end }
