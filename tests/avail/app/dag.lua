-- Returns nine levels of twelve references to one table each, and a cycle:
-- 12^9 paths through 10 tables.
return { main = function()
  local t = { "leaf" }
  for _ = 1, 9 do
    t = { a = t, b = t, c = t, d = t, e = t, f = t, g = t, h = t, i = t, j = t, k = t, l = t }
  end
  local c = { name = "c" }
  c.self = c
  return { dag = t, cyc = c }
end }
