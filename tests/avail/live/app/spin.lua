-- Runs Lua for 'secs' seconds of wall clock (2 to 3 s for 3), preempted
-- but never blocked. It reads the clock with os.time, which makes no
-- system call: a loop on os.clock (a system call) spends most of its CPU
-- in the kernel, which the host's preemption timer does not count.
return { main = function(secs)
  local stop = os.time() + tonumber(secs)
  local n = 0
  while os.time() < stop do n = n + 1 end
  return "spun"
end }
