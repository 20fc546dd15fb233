-- CVE-2022-24735 (Redis): scripts shared mutable globals, so one user
-- could plant code that ran with another user's privileges (fix: read-only
-- tables, redis PR #10651). Attack: replace globals and library functions
-- (_G.pairs, string.format, table.concat, process.send, errors.new,
-- require, coroutine.wrap) and set a global the next actor might read,
-- then start fresh actors on the same host and across hosts.
-- Expected: every actor has its own lua_State: fresh actors, on the same
-- host and on another, see the real functions and no planted global; the
-- canary is unaffected.
local M = {}

function M.attack(mode)
  if mode == "check" then
    return {
      planted = rawget(_G, "PLANTED"),
      pairs = pairs == next and "next" or type(pairs),
      format = string.format("%s", "f"),
      concat = table.concat({ "a", "b" }),
      send = type(process.send),
      errors_new = type(errors.new("x")),
      require = type(require("time")),
      wrap = type(coroutine.wrap(function() end)),
    }
  end
  PLANTED = "attacker was here"
  _G.pairs = next
  string.format = function() return "pwned" end
  table.concat = function() return "pwned" end
  process.send = function() return "pwned" end
  errors.new = function() return "pwned" end
  coroutine.wrap = function() return "pwned" end
  local out = {}
  out.same_host = process.exec("esc:atk_cve_2022_24735", "esc:attacker", "check")
  out.other_host = process.exec("esc:atk_cve_2022_24735", "esc:crashme", "check")
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_cve_2022_24735", "esc:attacker", "5s"))
  for _, where in ipairs({ "same_host", "other_host" }) do
    local c = J.ok(r[where], where)
    J.eq(c.planted, nil, where .. ": planted global")
    J.eq(c.pairs, "function", where .. ": pairs")
    J.eq(c.format, "f", where .. ": string.format")
    J.eq(c.concat, "ab", where .. ": table.concat")
    J.eq(c.send, "function", where .. ": process.send")
    J.eq(c.errors_new, "userdata", where .. ": errors.new")
    J.eq(c.require, "table", where .. ": require")
    J.eq(c.wrap, "function", where .. ": coroutine.wrap")
  end
  J.eq(rawget(_G, "PLANTED"), nil, "judge: planted global")
  return J.finish()
end

return M
