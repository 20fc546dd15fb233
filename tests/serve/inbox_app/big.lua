-- big(dest, n): sends one string of n bytes on topic "big" to dest.
return { main = function(dest, n)
  local ok, err = process.send(dest, "big", string.rep("x", n))
  if not ok then error(err) end
  return n
end }
