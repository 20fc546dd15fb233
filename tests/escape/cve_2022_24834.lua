-- CVE-2022-24834 (Redis cjson/cmsgpack): integer overflow in the encoder's
-- buffer growth -> heap overflow. ward has one encoder (the payload
-- codec). Attack: payloads right at the max_payload boundary (1 MiB here):
-- one string of the limit minus a little and one just over, many tiny
-- strings (1.2 MB of text, more with per-item headers), and a table
-- with many keys of growing length.
-- Expected: under the limit delivered intact (length checked on the
-- other side), over the limit LimitExceeded; never a crash; the canary is
-- unaffected.
local M = {}

function M.attack()
  local LIMIT = 1024 * 1024
  local replies = process.listen("reply")
  local echo = process.spawn("esc:atk_idle", "esc:crashme")
  local out = {}
  local function try(name, v)
    local ok, e = process.send(echo, "echo", v)
    if ok then
      local r = replies:receive()
      out[name] = "ECHOED " .. (type(r) == "string" and #r or #r)
    else
      out[name] = e:kind()
      out[name .. "_msg"] = tostring(e)
    end
  end
  try("under", string.rep("u", LIMIT - 64))
  try("over", string.rep("o", LIMIT + 1))
  local tiny = {}
  for i = 1, 400000 do tiny[i] = "abc" end
  try("tiny_items", tiny)
  local keys = {}
  for i = 1, 1500 do keys[string.rep("k", i)] = i end
  try("long_keys", keys)
  process.terminate(echo)
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_cve_2022_24834", "esc:attacker", "10s"))
  J.eq(r.under, "ECHOED " .. (1024 * 1024 - 64), "a string just under the limit (" .. tostring(r.under_msg) .. ")")
  J.eq(r.over, errors.LIMIT_EXCEEDED, "a string just over the limit")
  J.eq(r.tiny_items, errors.LIMIT_EXCEEDED, "400000 3-byte strings")
  J.eq(r.long_keys, errors.LIMIT_EXCEEDED, "1500 keys of length 1..1500 (1.1 MB)")
  return J.finish()
end

return M
