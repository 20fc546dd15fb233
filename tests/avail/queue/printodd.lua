-- print's awkward cases: an argument whose __tostring raises (the error is
-- the caller's, the host lives on), and a line of 6 MiB (more than one
-- frame holds).
return { main = function()
  local bad = setmetatable({}, { __tostring = function() error("boom") end })
  print("a", (pcall(print, "x", bad)))
  print(string.rep("b", 6 << 20))
  return "done"
end }
