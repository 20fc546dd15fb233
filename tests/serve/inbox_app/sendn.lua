-- sendn(dest, n, tag): sends {tag = tag, i = 1..n} on topic "t" to dest
-- (a PID or a registered name); returns n, or raises the first failure.
return { main = function(dest, n, tag)
  for i = 1, n do
    local ok, err = process.send(dest, "t", { tag = tag, i = i })
    if not ok then error(err) end
  end
  return n
end }
