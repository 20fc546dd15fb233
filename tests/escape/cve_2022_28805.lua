-- CVE-2022-28805 (Lua 5.4.0-5.4.4): singlevar in lparser.c lacks
-- luaK_exp2anyregup when _ENV is <const> -> heap over-read (upstream
-- 1f3c6f45, not in the v5.4.4 tag; patched in Debian 5.4.4-2). Upstream
-- regression (testes/attrib.lua) ported: `local _ENV <const> = 11;
-- X = "hi"` must raise an error mentioning "number".
-- Expected: an error mentioning "number", inline and through load, and
-- for a read as well as a write; the canary is unaffected.
local M = {}

function M.attack()
  local out = {}
  out.inline = select(2, pcall(function()
    local _ENV <const> = 11
    X = "hi"
  end))
  out.read = select(2, pcall(function()
    local _ENV <const> = 11
    return Y
  end))
  local f, err = load("local _ENV <const> = 11; X = 'hi'")
  out.loaded = f and select(2, pcall(f)) or err
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_cve_2022_28805", "esc:attacker", "5s"))
  J.has(r.inline, "number", "inline")
  J.has(r.read, "number", "read")
  J.has(r.loaded, "number", "through load")
  return J.finish()
end

return M
