-- dag(dest, depth): sends a table of 'depth' levels, each holding the
-- level below twice (shared, not a cycle): small as bytes.
return { main = function(dest, depth)
  local t = {"leaf"}
  for i = 1, depth do t = {t, t} end
  local ok, err = process.send(dest, "dag", t)
  if not ok then error(err) end
  return depth
end }
