-- Runs 'n' process.exec of r:quick on host 'h'; tells 'parent' how many
-- returned their own child's value.
return { main = function(parent, h, n)
  local ok = 0
  for i = 1, n do
    if process.exec("r:quick", h, "v" .. i, i % 2) == "v" .. i then ok = ok + 1 end
  end
  process.send(parent, "execs", ok)
end }
