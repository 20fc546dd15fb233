-- The sum of its arguments (integers stay integers, floats floats).
return { main = function(...)
  local s = 0
  for _, v in ipairs({...}) do s = s + v end
  return s
end }
