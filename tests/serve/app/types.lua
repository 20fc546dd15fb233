-- Returns its argument as it arrived, or a value of each kind; "cycle"
-- returns a table inside itself, "mixed" a table JSON cannot hold.
return { main = function(what, x)
  if what == "echo" then return x end
  if what == "cycle" then local t = {} t.self = t return {outer = t} end
  if what == "mixed" then return {items = {1, 2, name = "x"}} end
  if what == "nan" then return {v = 0/0} end
  return {i = 7, f = 1.5, s = "text", b = true, list = {1, 2, 3},
          nested = {deep = {"a", "b"}}, empty = {}}
end }
