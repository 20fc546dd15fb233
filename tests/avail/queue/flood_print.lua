-- Prints N numbered lines of about 1 KiB as fast as it can (q:slowout
-- takes 256 KiB a second of output): every line must come out, in order,
-- and the result after them.
return { main = function(n)
  local pad = string.rep("p", 1000)
  for i = 1, tonumber(n) do print(i .. " " .. pad) end
  return "printed"
end }
