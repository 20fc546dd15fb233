-- Registers the name it is given (if any) and prints every message on
-- topic "t" it receives: "inbox got <payload>" (stdout of ward serve).
return { main = function(name)
  if name then process.registry.register(name) end
  local ch = process.listen("t")
  while true do
    local v = ch:receive()
    if type(v) == "table" then
      local keys = {}
      for k, x in pairs(v) do keys[#keys + 1] = tostring(k) .. "=" .. tostring(x) end
      table.sort(keys)
      v = "{" .. table.concat(keys, ",") .. "}"
    end
    print("inbox got " .. tostring(v))
  end
end }
