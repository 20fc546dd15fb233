-- Attack: a pattern that backtracks for seconds inside string.find — a C
-- function, so the count hook never fires (11 s measured for n=450).
-- Expected (host esc:crashme, turn_deadline: 500ms, restart: true): the
-- broker kills the host as unresponsive; the judge's monitor gets EXIT
-- naming "unresponsive" instead of the pattern's result; a
-- witness on the host dies with it; the host comes back; the canary is
-- unaffected.
local M = {}

function M.attack(kind)
  if kind == "gsub" then
    return string.gsub(string.rep("a", 2000), ".-.-.-.-b", "x")
  end
  return string.find(string.rep("a", 450), ".-.-.-b")
end

function M.main()
  local J = require("judge")
  J.begin()
  for _, kind in ipairs({ "find", "gsub" }) do
    local witness = J.spawn("esc:atk_idle", "esc:crashme")
    local r = J.attack("esc:atk_pattern_bomb", "esc:crashme", "5s", kind)
    J.error(r, errors.INTERNAL, nil, kind)
    J.has(tostring(r.error), "host esc:crashme", kind .. ": EXIT names the host")
    J.has(tostring(r.error), "unresponsive", kind .. ": EXIT names the cause")
    local w = J.event(process.event.EXIT, witness, "2s", "witness")
    J.has(tostring(w.result.error), "unresponsive", "witness died with its host")
    J.value(J.attack("esc:atk_probe", "esc:crashme"), nil, kind .. ": host restarted")
  end
  return J.finish()
end

return M
