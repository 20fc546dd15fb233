-- Attack: push payloads over max_payload (1 MiB on these hosts) through every
-- path that copies values between actors: send (one string, many small
-- values; local and remote), spawn arguments (local and remote), builder
-- messages and context. (A child's result: oversized_result.lua.)
-- Expected: LimitExceeded on the sender's side for each; nothing is sent;
-- the attacker carries on; the canary is unaffected.
local M = {}

function M.attack()
  local big = string.rep("x", 5 * 1024 * 1024)
  local me = process.pid()
  local out = {}
  local function rec(name, v, e) out[name] = v and "SENT" or (e:kind() .. ": " .. tostring(e)) end
  rec("send", process.send(me, "big", big))
  local many = {}
  for i = 1, 300000 do many[i] = "0123456789abcdef" end
  rec("send_many", process.send(me, "big", many))
  local echo = process.spawn("esc:atk_idle", "esc:tight")
  rec("send_remote", process.send(echo, "echo", big))
  rec("spawn", process.spawn("esc:atk_idle", "esc:tight", big))
  rec("spawn_local", process.spawn("esc:atk_idle", "esc:attacker", big))
  local ok, p, e = pcall(function()
    return process.with_context({}):with_message("m", big):spawn("esc:atk_idle", "esc:tight")
  end)
  if ok then rec("builder", p, e) else out.builder = "raised: " .. tostring(p) end
  rec("context", process.with_context({ big = big }):spawn("esc:atk_idle", "esc:tight"))
  process.terminate(echo)
  out.after = #big
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_oversized_payload", "esc:attacker", "10s"))
  for _, k in ipairs({ "send", "send_many", "send_remote", "spawn", "spawn_local", "builder", "context" }) do
    J.has(r[k], errors.LIMIT_EXCEEDED .. ":", k)
  end
  J.eq(r.after, 5 * 1024 * 1024, "the attacker carries on")
  return J.finish()
end

return M
