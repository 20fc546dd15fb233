-- Receives 'total' messages {p = producer, i = sequence} on topic "n",
-- doing a little work for each, checks that each producer's arrive in
-- order, and reports {count, inorder} to 'report' on topic "consumed".
return { main = function(total, report)
  local ch = process.listen("n")
  local last, inorder, count = {}, true, 0
  while count < total do
    local v = ch:receive()
    count = count + 1
    if v.i ~= (last[v.p] or 0) + 1 then inorder = false end
    last[v.p] = v.i
    local s = 0
    for k = 1, 200 do s = s + k end
  end
  process.send(report, "consumed", { count = count, inorder = inorder })
  return count
end }
