-- globex's function: count, sum and mean of a list of numbers.
return { main = function(xs)
  local n, s = 0, 0
  for _, x in ipairs(xs or {}) do n, s = n + 1, s + x end
  return { n = n, sum = s, mean = n > 0 and s / n or nil }
end }
