-- Attack: make the host spend its turn describing an exit value. A result
-- of nine levels of shared subtables (twelve references to the same table
-- at each level, 12^9 paths, one table per level) plus a cycle used to
-- be rendered path by path until the turn deadline killed the host, with
-- every other process on it.
-- Expected: the judge gets the value (shared tables kept by the codec),
-- and a witness on the same host is still alive: the host never renders
-- more than a bounded text, each table once.
local M = {}

function M.attack()
  local t = { 1 }
  for _ = 1, 9 do
    t = { a = t, b = t, c = t, d = t, e = t, f = t, g = t, h = t, i = t, j = t, k = t, l = t }
  end
  local c = {}
  c.self = c
  return { dag = t, cyc = c }
end

function M.main()
  local J = require("judge")
  J.begin()
  local witness = J.spawn("esc:atk_idle", "esc:attacker")
  local r = J.value(J.attack("esc:atk_dag_result", "esc:attacker", "10s"))
  J.ok(r.dag.a == r.dag.l, "shared subtables arrive shared")
  J.ok(r.cyc.self == r.cyc, "the cycle arrives as a cycle")
  J.alive(witness, "the witness on the attacker's host")
  return J.finish()
end

return M
