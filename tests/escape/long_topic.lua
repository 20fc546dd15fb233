-- Attack: make the host and the broker decide on different bytes. The
-- broker used to re-check a send on a topic cut to 299 bytes while the
-- host decided on the whole string, so a policy condition on the topic
-- could go one way in the host and the other in the broker.
-- Expected: a topic over 255 bytes (or holding a NUL byte) is refused
-- with Invalid before any decision, on the same host and across hosts,
-- for send, listen and a builder's with_message; 255 bytes still work.
local M = {}

function M.attack(peer)
  local out = {}
  local function rec(name, v, e) out[name] = v and "OK" or (e and e:kind() or "nil") end
  local max, over = string.rep("t", 255), string.rep("t", 256)
  local me = process.pid()
  rec("local_max", process.send(me, max, 1))
  rec("local_over", process.send(me, over, 1))
  rec("local_300", process.send(me, string.rep("t", 299) .. "u", 1))
  rec("local_nul", process.send(me, "a\0b", 1))
  rec("remote_max", process.send(peer, max, 1))
  rec("remote_over", process.send(peer, over, 1))
  rec("remote_4k", process.send(peer, string.rep("t", 4096), 1))
  rec("listen_max", process.listen(max))
  rec("listen_over", process.listen(over))
  local ok, err = pcall(function()
    return process.with_context({}):with_message(over, 1)
  end)
  out.builder_over = ok and "OK" or tostring(err)
  return out
end

function M.main()
  local J = require("judge")
  local canary = J.begin()
  local peer = J.spawn("esc:atk_idle", "esc:tight")
  local r = J.value(J.attack("esc:atk_long_topic", "esc:attacker", "5s", peer))
  local I = errors.INVALID
  J.eq(r.local_max, "OK", "255-byte topic, same host")
  J.eq(r.local_over, I, "256-byte topic, same host")
  J.eq(r.local_300, I, "300-byte topic, same host")
  J.eq(r.local_nul, I, "topic with a NUL byte")
  J.eq(r.remote_max, "OK", "255-byte topic, across hosts")
  J.eq(r.remote_over, I, "256-byte topic, across hosts")
  J.eq(r.remote_4k, I, "4 KiB topic, across hosts")
  J.eq(r.listen_max, "OK", "listen on a 255-byte topic")
  J.eq(r.listen_over, I, "listen on a 256-byte topic")
  J.has(r.builder_over, "topic longer than 255 bytes", "with_message with a 256-byte topic")
  J.alive(peer, "the peer")
  return J.finish()
end

return M
