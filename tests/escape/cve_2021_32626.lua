-- CVE-2021-32626 (Redis Lua glue): C code pushed a variable number of
-- values without lua_checkstack -> heap corruption (redis a511af7c).
-- Attack: make ward's own bindings push many values: spawn and exec with
-- 200000 arguments (locally and across hosts: the child's main gets them
-- all), send with 200000 values, a builder message with 200000 values,
-- channel.select over 100000 cases, a child returning 200000 results.
-- Expected: everything works (values counted exactly; extra results are
-- dropped to the first); no crash; the canary is unaffected.
local M = {}

function M.attack(mode, ...)
  if mode == "count" then return select("#", ...) end
  if mode == "many" then
    local t = {}
    for i = 1, 200000 do t[i] = i end
    return table.unpack(t)
  end
  local t = {}
  for i = 1, 200000 do t[i] = i end
  local out = {}
  out.exec_local = process.exec("esc:atk_cve_2021_32626", "esc:attacker", "count", table.unpack(t))
  out.exec_remote = process.exec("esc:atk_cve_2021_32626", "esc:crashme", "count", table.unpack(t))
  local inbox = process.inbox()
  process.send(process.pid(), "many", table.unpack(t))
  out.send = #inbox:receive():payload()
  local p = process.with_context({}):with_message("m", table.unpack(t))
    :spawn("esc:atk_idle", "esc:attacker")
  out.builder = p ~= nil
  process.terminate(p)
  local ch = channel.new(1)
  local cases = {}
  for i = 1, 100000 do cases[i] = ch:case_receive() end
  ch:send("v")
  out.select = channel.select(cases).value
  out.results_local = select("#", process.exec("esc:atk_cve_2021_32626", "esc:attacker", "many"))
  out.results_remote = process.exec("esc:atk_cve_2021_32626", "esc:crashme", "many")
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_cve_2021_32626", "esc:attacker", "10s"))
  J.eq(r.exec_local, 200000, "200000 spawn arguments, same host")
  J.eq(r.exec_remote, 200000, "200000 spawn arguments, other host")
  J.eq(r.send, 200000, "200000 values in one send")
  J.eq(r.builder, true, "200000 values in a builder message")
  J.eq(r.select, "v", "select over 100000 cases")
  J.eq(r.results_local, 1, "200000 results: the result is the first")
  J.eq(r.results_remote, 1, "200000 results across hosts")
  return J.finish()
end

return M
