-- Attack: make require read a file or load a module the entry did not
-- import: absolute and relative paths, the app's own files, C modules,
-- the standard library names, another entry of the app by id, and a name
-- with a NUL byte.
-- Expected: every one fails with "module '...' not found" naming the rule
-- (built-in modules and the entry's imports only); the built-ins still
-- load; the attacker returns normally; the canary is unaffected.
local M = {}

local NAMES = { "/etc/passwd", "../escape/lib/canary", "./lib/judge", "lib.judge",
  "_index.yaml", "io", "os", "debug", "package", "string", "coroutine", "socket",
  "lfs", "esc:judge_lib", "judge", "esc:canary_main", "check", "x\0y", "" }

function M.attack()
  local out = {}
  for i, n in ipairs(NAMES) do
    local ok, err = pcall(require, n)
    out[i] = ok and "LOADED" or tostring(err)
  end
  out.time = type(require("time").now)
  out.security = type(require("security").actor)
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_require_file", "esc:attacker"))
  for i, n in ipairs(NAMES) do
    J.has(r[i], "not found: require takes the built-in modules", "require(" .. ("%q"):format(n) .. ")")
  end
  J.eq(r.time, "function", "require('time')")
  J.eq(r.security, "function", "require('security')")
  return J.finish()
end

return M
