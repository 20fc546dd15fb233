-- Sends N messages of about 1 MiB (1 KiB less: max_payload is 1 MiB) to a
-- process that never reads, on this host ("local") or on another
-- ("remote"); counts how each send ended, then checks that the sink's
-- host still runs a process.
local M = {}

function M.sink()
  channel.new():receive() -- blocks for ever, never reads its inbox
end

function M.probe()
  return "alive"
end

function M.main(where, n)
  n = tonumber(n)
  local host = where == "local" and "q:mb" or "q:mb2"
  local sink = assert(process.spawn("q:sink", host))
  local big = string.rep("x", (1 << 20) - 1024)
  local ok, full, other, first = 0, 0, 0, nil
  for _ = 1, n do
    local r, err = process.send(sink, "t", big)
    if r then
      ok = ok + 1
    elseif errors.is(err, errors.LIMIT_EXCEEDED)
        and tostring(err):find("mailbox full", 1, true) then
      full = full + 1
    else
      other = other + 1
      first = first or tostring(err)
    end
  end
  local alive, err = process.exec("q:probe", host)
  return string.format("ok=%d full=%d other=%d probe=%s%s", ok, full, other,
    tostring(alive or err), first and (" first=" .. first) or "")
end

return M
