-- Attack: use the reserved @ topics (ward's own control messages) to forge
-- events: send to "@exit"/"@cancel"/"@link_down" on the attacker's own
-- process, on the canary (by PID and name), through the builder's queued
-- messages and through a name held by the canary.
-- Expected: Invalid "cannot send to @ topics" from send; the builder
-- raises "cannot send to @ topics"; nothing reaches the canary; the
-- canary is unaffected.
local M = {}

function M.attack(canary)
  local out = {}
  local function rec(name, v, e) out[name] = v and "SENT" or (e:kind() .. ": " .. tostring(e)) end
  for _, t in ipairs({ "@exit", "@cancel", "@link_down", "@" }) do
    rec("self " .. t, process.send(process.pid(), t, { kind = "pid.exit" }))
    rec("canary " .. t, process.send(canary, t, { kind = "pid.exit" }))
    rec("name " .. t, process.send("esc_canary", t, { kind = "pid.exit" }))
  end
  local ok, err = pcall(function()
    return process.with_context({}):with_message("@exit", 1)
  end)
  out.builder = ok and "ACCEPTED" or tostring(err)
  ok = pcall(process.listen, "@exit")
  out.listen = ok
  return out
end

function M.main()
  local J = require("judge")
  local canary = J.begin()
  local r = J.value(J.attack("esc:atk_at_topics", "esc:attacker", "5s", canary))
  for _, t in ipairs({ "@exit", "@cancel", "@link_down", "@" }) do
    for _, who in ipairs({ "self", "canary", "name" }) do
      J.eq(r[who .. " " .. t], errors.INVALID .. ": cannot send to @ topics", who .. " " .. t)
    end
  end
  J.has(r.builder, "cannot send to @ topics", "builder with_message('@exit')")
  return J.finish()
end

return M
