-- Attack: address the canary tenant by forged or malformed PIDs: the
-- canary's host with right and wrong counters, the attacker's own host
-- with an unknown counter, a host that does not exist, broken syntax,
-- counters that overflow, empty and huge strings, embedded NUL bytes —
-- through send, monitor, link, terminate, cancel and registry.
-- Expected: PermissionDenied for anything on another tenant's host (the
-- policy is checked before anything else), NotFound for an unknown
-- counter on the attacker's own host and for strings that are no PID (they
-- are looked up as names), Invalid for an empty destination where the API
-- says so; never a host crash; the canary is unaffected.
local M = {}

local FORGED = { "{esc:canary|0x00001}", "{esc:canary|0x00002}", "{esc:canary|0xfffff}",
  "{esc:judge|0x00001}", "{esc:nohost|0x00001}" }
local MALFORMED = { "{esc:canary|zz", "{}", "{esc:canary|}", "{|0x00001}", "{esc:canary|0x}",
  "{esc:canary|-1}", "{esc:canary|0x10000000000000000}", "{esc:canary|0x00001}\0",
  "\0{esc:canary|0x00001}", "{esc:canary\0|0x00001}", string.rep("{", 5000),
  "{" .. string.rep("h", 300) .. "|0x00001}" }

function M.attack(canary)
  local out = { forged = {}, malformed = {}, own = {} }
  local function kind(v, e) return v and "OK" or (e and e:kind() or "nil") end
  for i, p in ipairs(FORGED) do
    out.forged[i] = table.concat({ kind(process.send(p, "x", 1)), kind(process.monitor(p)),
      kind(process.link(p)), kind(process.terminate(p)), kind(process.cancel(p)) }, " ")
  end
  for i, p in ipairs(MALFORMED) do
    out.malformed[i] = table.concat({ kind(process.send(p, "x", 1)), kind(process.monitor(p)),
      kind(process.terminate(p)), kind(process.registry.register("atk_x", p)) }, " ")
  end
  out.real = kind(process.send(canary, "x", 1))
  local own = "{esc:attacker|0xfffff}"
  out.own = table.concat({ kind(process.send(own, "x", 1)), kind(process.monitor(own)),
    kind(process.link(own)), kind(process.terminate(own)), kind(process.cancel(own)) }, " ")
  out.empty = table.concat({ kind(process.send("", "x", 1)), kind(process.monitor("")),
    kind(process.terminate("")), kind(process.registry.register("atk_x", "")) }, " ")
  return out
end

function M.main()
  local J = require("judge")
  local canary = J.begin()
  local r = J.value(J.attack("esc:atk_forged_pids", "esc:attacker", "5s", canary))
  local D = errors.PERMISSION_DENIED
  for i, p in ipairs(FORGED) do
    J.eq(r.forged[i], table.concat({ D, D, D, D, D }, " "), "forged " .. p)
  end
  J.eq(r.real, D, "the canary's real PID")
  local N, I = errors.NOT_FOUND, errors.INVALID
  J.eq(r.own, table.concat({ N, N, N, N, N }, " "), "unknown counter on the attacker's host")
  for i, p in ipairs(MALFORMED) do
    J.eq(r.malformed[i], table.concat({ N, N, N, I }, " "), ("malformed %q"):format(p:sub(1, 40)))
  end
  J.eq(r.empty, table.concat({ N, N, N, I }, " "), "empty destination")
  return J.finish()
end

return M
