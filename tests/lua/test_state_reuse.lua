-- An actor's state is reset before it serves the next actor of the same
-- entry, actor and scope (SECURITY.md S13): runs of one entry, one after
-- the other, find nothing of the run before (globals, object ids, or the
-- strings it made, which Lua's string table would hand out again without
-- an allocation if they were still there). Whether a state was reused is
-- not visible to scripts; tests/unit/test_lua_pool.c checks that it is.
local check = require("check")

local function run(host, mode, secret)
  local reports = process.listen("reuse")
  local ev = process.events()
  local pid = check.ok(process.spawn_monitored("t:reuse_probe", host,
    process.pid(), mode, secret))
  local r = check.recv(reports, "2s", mode .. " report")
  local e
  repeat e = check.recv(ev, "2s", "EXIT of " .. mode) until e.from == pid
  check.eq(e.kind, process.event.EXIT, "event kind")
  check.ok(e.result.value == true, mode .. " ended well")
  process.unlisten(reports)
  return r
end

return { main = function()
  for _, host in ipairs({ "t:a", "t:b" }) do
    for i = 1, 3 do
      local secret = string.format("secret-%s-%d-", host, i)
      run(host, "leave", secret)
      local r = run(host, "probe", secret)
      check.eq(r.global, nil, "the previous run's global")
      check.eq(r.table, nil, "the previous run's table")
      check.eq(r.id, "table: #1", "the first object id")
      check.ok(r.grew, "the secret string was still in the state")
      check.eq(r.len, 2 * #secret, "string length")
    end
  end
  return true
end }
