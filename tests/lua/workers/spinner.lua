-- Runaway code of three kinds, chosen by 'how'.
return { main = function(how)
  if how == "pcall" then
    while true do pcall(function() while true do end end) end
  elseif how == "pattern" then
    -- A C function that runs for seconds without a hook call.
    return string.find(string.rep("a", 450), ".-.-.-b")
  else
    while true do end
  end
end }
