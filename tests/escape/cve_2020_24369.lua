-- CVE-2020-24369 (Lua 5.4.0): NULL dereference in a line hook on a
-- stripped function (upstream ae5b5ba5; fixed before 5.4.4). Stripped
-- functions come only from string.dump(f, true) and binary chunks.
-- Attack: produce or load a stripped function.
-- Expected: string.dump is absent and the (stripped) binary chunk is
-- refused; the canary is unaffected.
local M = {}

-- The header of a stripped Lua 5.4 chunk.
local STRIPPED = "\27Lua\84\0\25\147\13\10\26\10\4\8\8\120\86\0\0\0\0\0\0\0\0\0\0\0\40\119\64\1\0"

function M.attack()
  local f, err = load(STRIPPED, "=stripped", "b")
  return { dump = string.dump == nil, load = f == nil and err }
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_cve_2020_24369", "esc:attacker", "5s"))
  J.eq(r.dump, true, "string.dump absent")
  J.eq(r.load, "attempt to load a binary chunk (mode is 't')", "stripped chunk")
  return J.finish()
end

return M
