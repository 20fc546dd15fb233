-- Sends n messages {p = p, i = 1..n} to 'dest' on topic "n", one after
-- the other, and reports {p, sent, failed} to 'report' on "produced".
return { main = function(dest, p, n, report)
  local sent, failed = 0, nil
  for i = 1, n do
    local ok, err = process.send(dest, "n", { p = p, i = i })
    if not ok then failed = tostring(err) break end
    sent = sent + 1
  end
  process.send(report, "produced", { p = p, sent = sent, failed = failed })
end }
