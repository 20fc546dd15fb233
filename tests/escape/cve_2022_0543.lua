-- CVE-2022-0543 (Debian's Redis, CVSS 10): the Lua 'package' library was
-- left reachable, so package.loadlib loaded libc and ran commands.
-- Attack: find package / loadlib / a C searcher by every route: globals,
-- _ENV, load with an explicit env, require, string metatable, and the
-- registry-like tables a script can see.
-- Expected: no route gives package, loadlib, searchers or a C loader; the
-- canary is unaffected.
local M = {}

function M.attack()
  local found = {}
  local function look(name, v) if v ~= nil then found[#found + 1] = name end end
  look("_G.package", rawget(_G, "package"))
  look("_ENV.package", _ENV.package)
  look("load env", load("return package", "x", "t", _G)())
  look("require package", (pcall(require, "package")) or nil)
  look("string mt", getmetatable("").package)
  look("require.loaders", type(require) == "table" and require.loaders or nil)
  for k, v in pairs(_G) do
    if type(v) == "table" then
      for k2 in pairs(v) do
        if k2 == "loadlib" or k2 == "searchers" or k2 == "cpath" or k2 == "preload" then
          found[#found + 1] = tostring(k) .. "." .. tostring(k2)
        end
      end
    end
  end
  return table.concat(found, ",")
end

function M.main()
  local J = require("judge")
  J.begin()
  J.value(J.attack("esc:atk_cve_2022_0543", "esc:attacker", "5s"), "", "package reachable via")
  return J.finish()
end

return M
