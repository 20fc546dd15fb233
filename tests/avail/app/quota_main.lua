-- Runs the name quota twice: the names of an ended process are released
-- (the index frees what it held), so a later one gets all 50 again.
return { main = function()
  for round = 1, 2 do
    local n = assert(process.exec("av:quota", "av:q", "holder"))
    print("round " .. round .. ": " .. n)
  end
  return true
end }
