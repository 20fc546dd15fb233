-- Sends messages of 'size' bytes to 'dest' (which never reads) until a
-- send fails, then messages of 1 byte to 'dest2' (another that never
-- reads) until one fails: the host's mailbox bytes are used up. Then,
-- with 'echo' (another process of the same host), asks it for an answer,
-- waiting up to 'patience'. Reports to 'report' on "blocked".
return { main = function(dest, dest2, report, size, echo, patience)
  local time = require("time")
  local accepted, err = 0, nil
  for _, p in ipairs({ { dest, string.rep("x", size) }, { dest2, "x" } }) do
    while true do
      local ok, e = process.send(p[1], "fill", p[2])
      if not ok then err = e break end
      accepted = accepted + 1
    end
  end
  local sent, serr, echoed
  if echo then
    local inbox = process.listen("reply")
    sent, serr = process.send(echo, "echo", "hello")
    local r = channel.select({ inbox:case_receive(),
                               time.after(patience):case_receive() })
    echoed = r.channel == inbox and r.value or nil
  end
  process.send(report, "blocked", {
    accepted = accepted, kind = err:kind(), msg = tostring(err),
    sent = sent, serr = serr and tostring(serr), echoed = echoed })
end }
