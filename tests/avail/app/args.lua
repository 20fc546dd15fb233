-- Returns how many arguments it got, the first and the last.
return { main = function(...)
  local n = select("#", ...)
  return n .. " " .. tostring((...)) .. " " .. tostring((select(n, ...)))
end }
