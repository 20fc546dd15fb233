-- Burns 'secs' seconds of CPU time in Lua (preempted, never blocked).
return { main = function(secs)
  local stop = os.clock() + tonumber(secs)
  local n = 0
  while os.clock() < stop do n = n + 1 end
  return "spun"
end }
