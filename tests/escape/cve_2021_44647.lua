-- CVE-2021-44647 (Lua 5.4.2): type confusion in funcnamefromcode when an
-- error names the function that raised it from a finalizer or __close
-- (fixed in 5.4.4). Attack: raise errors inside __close handlers, inside
-- metamethods, with a non-callable __close, and during error unwinding.
-- Expected: each is an ordinary catchable error with a message; no crash;
-- the canary is unaffected.
local M = {}

function M.attack()
  local out = {}
  out.close_error = select(2, pcall(function()
    local x <close> = setmetatable({}, { __close = function() error("in close") end })
  end))
  out.close_not_callable = select(2, pcall(function()
    local x <close> = setmetatable({}, { __close = 1 })
  end))
  out.close_during_error = select(2, pcall(function()
    local x <close> = setmetatable({}, { __close = function(_, e) error("again: " .. tostring(e)) end })
    error("first")
  end))
  out.index_error = select(2, pcall(function()
    return setmetatable({}, { __index = function() return nil + 1 end }).x
  end))
  local ok, e = pcall(function() local x <close> = 1 end)
  out.not_closable_run = not ok and e
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_cve_2021_44647", "esc:attacker", "5s"))
  J.has(r.close_error, "in close", "error in __close")
  J.has(r.close_not_callable, "attempt to call a number value", "__close = 1")
  J.has(r.close_during_error, "again:", "error in __close during unwinding")
  J.has(r.index_error, "attempt to perform arithmetic on a nil value", "error in __index")
  J.has(r.not_closable_run, "variable 'x' got a non-closable value", "<close> on a number")
  return J.finish()
end

return M
