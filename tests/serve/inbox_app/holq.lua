-- holq(hol, quick): PIDs of two inboxes (a name would need the broker).
-- Sends 4000-byte messages to 'hol' (a client that reads nothing) from
-- where a send cannot wait (a sort comparator), so the first send past
-- this host's credit fails at once instead of waiting; then one of the
-- same size to 'quick' the same way. Returns how many went to hol, why
-- the next did not, and what the send to quick said (true, or its error).
local function now_or_never(dest, v)
  local ok, err
  table.sort({ 2, 1 }, function(a, b)
    if ok == nil then ok, err = process.send(dest, "t", v) end
    return a < b
  end)
  return ok, err
end

return { main = function(hol, quick)
  local pad = string.rep("p", 4000)
  local n, why = 0, nil
  for i = 1, 100000 do
    local ok, err = now_or_never(hol, { tag = "h", i = i, pad = pad })
    if not ok then why = tostring(err) break end
    n = i
  end
  local ok, err = now_or_never(quick, { tag = "q", i = 1, pad = pad })
  return { sent = n, why = why, quick = ok and true or tostring(err) }
end }
