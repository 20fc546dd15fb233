-- globex's bug: a backtracking pattern on a long string. string.find is
-- one C call, so the actor cannot be preempted inside it; the host's loop
-- does not come back within turn_deadline (500ms here) and the broker
-- kills the whole host as unresponsive. Only globex's host: acme's host
-- is another OS process and keeps answering.
return { main = function(n)
  local s = string.rep("a", tonumber(n) or 5000)
  return string.find(s, ".-.-.-.-b")
end }
