-- Attack: reach the operating system from Lua: the debug library, io,
-- os.execute / os.getenv / os.exit / os.remove / os.rename / os.tmpname,
-- package.loadlib (CVE-2022-0543 in Debian's Redis), dofile, loadfile,
-- and the same names through _G, _ENV, load and rawget.
-- Expected: none of them exists; os holds only time functions; the
-- attacker returns normally; the canary is unaffected.
local M = {}

function M.attack()
  local found = {}
  local function probe(name, v) if v ~= nil then found[#found + 1] = name end end
  for _, n in ipairs({ "debug", "io", "package", "dofile", "loadfile", "loadstring",
                       "module", "setfenv", "getfenv", "newproxy", "gcinfo" }) do
    probe(n, _G[n])
    probe("_ENV." .. n, _ENV[n])
    probe("rawget " .. n, rawget(_G, n))
    probe("load " .. n, load("return " .. n)())
  end
  for _, n in ipairs({ "execute", "getenv", "exit", "remove", "rename", "tmpname",
                       "setlocale" }) do
    probe("os." .. n, os[n])
  end
  local os_names = {}
  for k in pairs(os) do os_names[#os_names + 1] = k end
  table.sort(os_names)
  -- A loader a C module would need, by every spelling.
  local ok_loadlib = pcall(function() return package.loadlib("libc.so.6", "system") end)
  return { found = table.concat(found, ","), os = table.concat(os_names, ","),
           loadlib = ok_loadlib }
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_ambient_libs", "esc:attacker"))
  J.eq(r.found, "", "ambient authority reachable")
  J.eq(r.os, "clock,date,difftime,time", "os holds only time functions")
  J.eq(r.loadlib, false, "package.loadlib callable")
  return J.finish()
end

return M
