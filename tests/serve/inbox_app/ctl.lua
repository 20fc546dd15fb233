-- ctl(dest, n): sends a string of n control bytes (each "\u0001" in
-- JSON: 6 bytes in the stream), then "after"; returns n.
return { main = function(dest, n)
  local ok, err = process.send(dest, "ctl", string.rep("\1", n))
  if not ok then error(err) end
  ok, err = process.send(dest, "after", "after")
  if not ok then error(err) end
  return n
end }
