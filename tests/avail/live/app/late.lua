-- Host lv:slowpoke (request_timeout 3s, liveness 60s) is stopped by the
-- test once this prints "ready", and continued once this prints the
-- spawn's error (a spawn is a request carried to that host; a send is
-- not: it waits for credit, test_flow). Its late answers must be dropped, not taken for forgeries:
-- the host lives on and answers again.
local function retry(f, ...)
  while true do
    local v, err = f(...)
    if v or err:kind() ~= errors.TIMEOUT then return v, err end
  end
end

return { main = function()
  local s = assert(retry(process.spawn, "lv:sleeper", "lv:slowpoke"))
  print("ready")
  local i = 1
  while true do
    local ok, err = process.spawn("lv:quick", "lv:slowpoke", i)
    if not ok then
      print("request failed: " .. err:kind() .. ": " .. tostring(err))
      break
    end
    i = i + 1
  end
  -- Until the test continues the host, sends keep timing out; then the
  -- sleeper answers again (it lives), and so does its host.
  assert(retry(process.send, s, "ping", i))
  print("answered again")
  print("exec: " .. tostring(retry(process.exec, "lv:quick", "lv:slowpoke", "fine")))
  return "done"
end }
