-- Reads its inbox for ever (so that senders never fill its mailbox).
return { main = function()
  local inbox = process.inbox()
  while true do inbox:receive() end
end }
