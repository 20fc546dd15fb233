local check = require("check")

-- Messages as large as max_payload allows (64 MiB on t:big1 and t:big2,
-- the most ward supports) cross hosts in fragments, intact and in order
-- with the sender's other messages; a host refuses a message over its
-- own max_payload (1 MiB on t:b) with LimitExceeded, as a send there would.

-- 64 MiB less a little for the codec, every KiB different.
local function big_string()
  local parts = {}
  for i = 1, 1024 do
    parts[i] = string.format("%08d", i) .. string.rep(string.char(i % 251), 1016)
  end
  local mib = table.concat(parts)
  return string.rep(mib, 63) .. string.sub(mib, 1, 1024 * 1024 - 64)
end

return { main = function()
  local inbox = process.inbox()
  local big = big_string()
  check.ok(#big > 63 * 1024 * 1024, "size")
  local echo = check.ok(process.spawn("t:echo", "t:big2"))
  -- There and back, intact; a small message sent after it comes after it.
  check.eq(process.send(echo, "echo", big), true, "send 64 MiB")
  check.eq(process.send(echo, "echo", "after"), true, "send after")
  local m = check.recv(inbox, "100s", "64 MiB back")
  check.eq(#m:payload(), #big, "length back")
  check.ok(m:payload() == big, "64 MiB back intact")
  m = nil
  check.eq(check.recv(inbox, "10s", "after"):payload(), "after", "order")
  -- Over the sender's own limit: refused here.
  check.fails(errors.LIMIT_EXCEEDED,
              process.send(echo, "echo", big .. string.rep("x", 1024)))
  process.send(echo, "stop")
  -- Over the receiver's own limit (t:b: 1 MiB): refused, nothing arrives.
  local small = check.ok(process.spawn("t:echo", "t:b"))
  local err = check.fails(errors.LIMIT_EXCEEDED,
                          process.send(small, "echo", string.rep("y", 2 << 20)))
  check.ok(tostring(err):find("limit", 1, true), tostring(err))
  check.eq(process.send(small, "echo", "fits"), true, "a small one goes")
  check.eq(check.recv(inbox, "10s", "fits"):payload(), "fits", "only it")
  process.send(small, "stop")
  return true
end }
