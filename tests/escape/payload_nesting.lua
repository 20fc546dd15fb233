-- Attack: a payload nested 100000 levels deep (to overflow the encoder's
-- or, on the other side, the decoder's C stack), also as a spawn argument
-- and inside an error object; plus values that must never cross actors.
-- Expected: Invalid "nested too deeply" for the deep ones, Invalid for
-- functions, coroutines and userdata; the attacker carries on; the canary
-- is unaffected.
local M = {}

function M.attack()
  local deep = {}
  for _ = 1, 100000 do deep = { deep } end
  local me = process.pid()
  local out = {}
  local function rec(name, v, e) out[name] = v and "SENT" or (e:kind() .. ": " .. tostring(e)) end
  rec("send", process.send(me, "deep", deep))
  rec("spawn", process.spawn("esc:atk_idle", "esc:tight", deep))
  rec("error", process.send(me, "deep", errors.new({ message = "x", details = deep })))
  rec("function", process.send(me, "f", function() end))
  rec("coroutine", process.send(me, "c", coroutine.create(function() end)))
  rec("userdata", process.send(me, "u", channel.new()))
  out.after = #deep
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_payload_nesting", "esc:attacker", "5s"))
  J.has(r.send, errors.INVALID .. ": ", "deep send")
  J.has(r.send, "nested too deeply", "deep send")
  J.has(r.spawn, "nested too deeply", "deep spawn argument")
  J.has(r.error, "nested too deeply", "deep error object")
  J.has(r["function"], errors.INVALID .. ": ", "function payload")
  J.has(r.coroutine, errors.INVALID .. ": ", "coroutine payload")
  J.has(r.userdata, errors.INVALID .. ": ", "userdata payload")
  J.eq(r.after, 1, "the attacker carries on")
  return J.finish()
end

return M
