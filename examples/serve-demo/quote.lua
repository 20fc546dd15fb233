-- acme's function: the total of {name=..., price=..., qty=...} items
-- (prices in cents, integers),
-- with tax (in percent, default 20).
return { main = function(items, tax)
  tax = tax or 20
  local net = 0
  for _, it in ipairs(items or {}) do net = net + it.price * (it.qty or 1) end
  return { net = net, tax = net * tax // 100, total = net + net * tax // 100,
           items = #(items or {}) }
end }
