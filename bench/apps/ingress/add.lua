-- The sum of the arguments.
return { main = function(...)
  local s = 0
  for _, v in ipairs({...}) do s = s + v end
  return s
end }
