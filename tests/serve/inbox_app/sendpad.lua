-- sendpad(dest, n, size, tag): sends {tag = tag, i = 1..n, pad = <size
-- bytes>} on topic "t" to dest; returns n, or raises the first failure.
return { main = function(dest, n, size, tag)
  local pad = string.rep("p", size)
  for i = 1, n do
    local ok, err = process.send(dest, "t", { tag = tag, i = i, pad = pad })
    if not ok then error(err) end
  end
  return n
end }
