-- Sends across hosts (each send decided and, with --audit all, logged by
-- the broker) until a send fails; returns how it failed.
return { main = function(n)
  local pid = assert(process.spawn("cli:sink", "cli:h2"))
  for i = 1, tonumber(n) or 100 do
    local ok, err = process.send(pid, "x", i)
    if not ok then return err:kind() .. " after " .. i end
  end
  return "all sent"
end }
