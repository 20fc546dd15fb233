-- Says "sending" to 'report', sends messages of 'size' bytes to 'dest'
-- until one fails, and reports ("stopped") how many were accepted and
-- the error's kind; then, for each PID that comes on "again", sends it
-- one message and reports ("again") the outcome of that send and of one
-- more to 'dest'.
return { main = function(dest, report, size)
  local blob = string.rep("x", size)
  local again = process.listen("again")
  process.send(report, "sending", true)
  local accepted, err = 0, nil
  while true do
    local ok, e = process.send(dest, "fill", blob)
    if not ok then err = e break end
    accepted = accepted + 1
  end
  process.send(report, "stopped", { accepted = accepted, kind = err:kind(),
                                    msg = tostring(err) })
  while true do
    local to = again:receive()
    local ok1, e1 = process.send(to, "hello", 1)
    local ok2, e2 = process.send(dest, "hello", 1)
    process.send(report, "again", { new = ok1 or e1:kind(),
                                    old = ok2 or e2:kind() })
  end
end }
