-- Prints five lines, then backtracks in string.find (a C function the
-- count hook cannot interrupt) until the broker kills the host at its turn
-- deadline. What it printed before must reach standard output.
return { main = function()
  for i = 1, 5 do print("line " .. i) end
  return string.find(string.rep("a", 3000), ".-.-.-b")
end }
