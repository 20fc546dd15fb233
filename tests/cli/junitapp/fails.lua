return { main = function()
  print("beta says hello")
  error("beta broke")
end }
