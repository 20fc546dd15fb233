-- Sends to 'dest' (which never reads) until a send fails; reports how
-- many were accepted and the error to 'report' on "blocked". With 'echo',
-- it then talks to that echo process: a congested destination must not
-- hold up its traffic to others.
return { main = function(dest, report, echo)
  local accepted, err = 0, nil
  while true do
    local ok, e = process.send(dest, "fill", accepted)
    if not ok then err = e break end
    accepted = accepted + 1
  end
  local echoed = nil
  if echo then
    local inbox = process.listen("reply")
    process.send(echo, "echo", "hello")
    echoed = inbox:receive()
  end
  process.send(report, "blocked", { accepted = accepted, kind = err:kind(),
                                    msg = tostring(err), echoed = echoed })
end }
