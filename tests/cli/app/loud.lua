-- Sends to a sink on 'host' (default cli:h2: across hosts, each send
-- decided by the host and re-checked by the broker; cli:h: within the
-- host, decided there alone) until a send fails; returns how it failed.
-- With --audit all, no send takes effect before its decision is logged.
return { main = function(n, host)
  local pid = assert(process.spawn("cli:sink", host or "cli:h2"))
  for i = 1, tonumber(n) or 100 do
    local ok, err = process.send(pid, "x", i)
    if not ok then return err:kind() .. " after " .. i end
  end
  return "all sent"
end }
