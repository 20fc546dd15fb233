-- CVE-2022-24735 (Redis): scripts shared mutable globals, so one user
-- could plant code that ran with another user's privileges (fix: read-only
-- tables, redis PR #10651). Attack: replace globals and library functions
-- (_G.pairs, string.format, table.concat, process.send, errors.new,
-- require, coroutine.wrap) and set a global the next actor might read,
-- then start fresh actors on the same host and across hosts.
-- Expected: library tables are read-only, so replacing a library function
-- fails in the attacker itself; globals are per actor (every actor has its
-- own lua_State): fresh actors, on the same host and on another, see the
-- real functions and no planted global; the canary is unaffected.
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
  local out = { refused = {} }
  -- Library tables are read-only: each of these fails in the attacker.
  for name, f in pairs({
    format = function() string.format = function() return "pwned" end end,
    concat = function() table.concat = function() return "pwned" end end,
    send = function() process.send = function() return "pwned" end end,
    errors_new = function() errors.new = function() return "pwned" end end,
    wrap = function() coroutine.wrap = function() return "pwned" end end,
  }) do
    out.refused[name] = not pcall(f)
  end
  _G.pairs = next
  out.same_host = process.exec("esc:atk_cve_2022_24735", "esc:attacker", "check")
  out.other_host = process.exec("esc:atk_cve_2022_24735", "esc:crashme", "check")
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_cve_2022_24735", "esc:attacker", "5s"))
  for _, name in ipairs({ "format", "concat", "send", "errors_new", "wrap" }) do
    J.eq(r.refused[name], true, "refused in the attacker: " .. name)
  end
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
