return { main = function()
  return 1
end }
