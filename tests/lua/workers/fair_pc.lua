-- Four producers and one consumer (test_fairness), each doing a little
-- work per message: a gsub with a callback and a sort with a comparator.
local M = {}

local function work(i)
  local s = ("%08d"):rep(4):format(i, i, i, i):gsub("%d", function(d) return d end)
  local t = {}
  for j = 1, 40 do t[j] = (i * j) % 31 end
  table.sort(t, function(a, b) return a > b end)
  return #s + t[1]
end

-- Send k messages {p, i, w} to 'cons'; returns k.
function M.producer(cons, p, k)
  for i = 1, k do
    assert(process.send(cons, "m", { p, i, work(i) }))
  end
  return k
end

-- Receive 'total' messages, check each producer's order, report to
-- 'report' on "counts" the count per producer and whether all were in
-- order and intact.
function M.consumer(report, total)
  local ch = process.listen("m")
  local counts, ok = { 0, 0, 0, 0 }, true
  for _ = 1, total do
    local m = ch:receive()
    local p, i = m[1], m[2]
    counts[p] = counts[p] + 1
    if counts[p] ~= i or m[3] ~= work(i) then ok = false end
  end
  process.send(report, "counts", { counts = counts, ok = ok })
  return total
end

return M
