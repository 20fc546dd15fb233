-- No actor, no scope: every checked call is denied. Asks until a denial
-- is not PermissionDenied (with --audit deny, once the log cannot be
-- written: Unavailable); returns how it ended.
return { main = function(n)
  for i = 1, tonumber(n) or 100 do
    local p, err = process.spawn("cli:hello", "cli:h")
    if p ~= nil then return "spawned?" end
    if err:kind() ~= "PermissionDenied" then return err:kind() .. " after " .. i end
  end
  return "all denied"
end }
