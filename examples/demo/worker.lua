-- A worker squares its number and reports to the dispatcher, found by name.
local function main(i)
  local ok, err = process.send("dispatcher", "result", { i = i, square = i * i })
  if not ok then error(err) end
end

return { main = main }
