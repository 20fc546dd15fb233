-- Tries to spawn ob:forbidden N times (each one a denial decided on its
-- host); answers how many were refused.
return { main = function(n)
  local refused = 0
  for _ = 1, n do
    local pid = process.spawn("ob:forbidden", "ob:a")
    if not pid then refused = refused + 1 end
  end
  return refused
end }
