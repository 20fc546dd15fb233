-- Quotas of host av:q (max_names 50, max_watches 20). Prints what each
-- step got; the test script checks the lines.
local function fill_names(prefix)
  local n, err = 0, nil
  for i = 1, 200 do
    local ok, e = process.registry.register(prefix .. i)
    if not ok then err = e break end
    n = n + 1
  end
  return n, err
end

return { main = function(mode)
  if mode == "names" then
    local n, err = fill_names("q.a")
    print("names: " .. n .. " " .. (err and err:kind() or "none") .. " " .. tostring(err))
    return n
  end
  if mode == "holder" then
    local n = fill_names("q.h")
    return n
  end
  if mode == "watches" then
    local targets, n, err = {}, 0, nil
    for i = 1, 40 do
      targets[i] = assert(process.spawn("av:echo", "av:h2"))
    end
    for i = 1, 40 do
      local ok, e = process.monitor(targets[i])
      if not ok then err = e break end
      n = n + 1
    end
    print("watches: " .. n .. " " .. (err and err:kind() or "none") .. " " .. tostring(err))
    -- Monitored spawns count too.
    local pid, e2 = process.spawn_monitored("av:echo", "av:h2")
    print("monitored spawn: " .. (pid and "ok" or e2:kind()))
    -- Room again once watches are given up.
    for i = 1, 5 do assert(process.unmonitor(targets[i])) end
    local ok3 = 0
    for i = 21, 25 do if process.monitor(targets[i]) then ok3 = ok3 + 1 end end
    print("after unmonitor: " .. ok3)
    for i = 1, 40 do process.terminate(targets[i]) end
    return n
  end
end }
