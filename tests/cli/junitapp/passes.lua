return { main = function()
  print("alpha line 1")
  print("alpha <xml> & \"quotes\"")
  return true
end }
