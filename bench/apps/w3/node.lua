-- A ring node: learns its successor, then forwards the token (the number
-- of hops left) until it will not see it again. The node that receives 0
-- tells the main actor.
return { main = function(parent, n)
  local ch = process.listen("t")
  local nxt = process.listen("next"):receive()
  local send, recv = process.send, ch.receive
  while true do
    local v = recv(ch)
    if v == 0 then
      send(parent, "done", true)
      return true
    end
    send(nxt, "t", v - 1)
    if v < n then return true end -- the token will not come back here
  end
end }
