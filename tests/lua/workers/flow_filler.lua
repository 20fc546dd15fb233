-- Sends 'n' messages {i = 1..n} on topic "n" to 'dest'; after 'mark' of
-- them (or all) tells 'report' {tag, sent} on "filled", and at the end
-- (all sent, or the first that failed) {tag, sent, kind} on "done".
return { main = function(dest, n, report, tag, mark)
  local sent, kind = 0, nil
  for i = 1, n do
    local ok, err = process.send(dest, "n", { i = i })
    if not ok then kind = err:kind() break end
    sent = sent + 1
    if sent == (mark or n) then
      process.send(report, "filled", { tag = tag, sent = sent })
    end
  end
  process.send(report, "done", { tag = tag, sent = sent, kind = kind })
end }
