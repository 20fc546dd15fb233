-- Attack: payloads that are graphs, not trees — a table that contains
-- itself, shared subtables, a cycle through keys — to make the codec loop
-- forever, blow up exponentially, or lose identity.
-- Expected: the graph arrives intact, with the same sharing and cycles
-- (through a local and a remote echo); a DAG of 2^40 paths is encoded
-- once per node; the canary is unaffected.
local M = {}

function M.attack()
  local t = { name = "root" }
  t.self = t
  local shared = { 1, 2, 3 }
  t.a, t.b = shared, shared
  t[t] = "key is the table"
  -- A DAG with 2^40 paths but 41 nodes.
  local dag = { leaf = true }
  for _ = 1, 40 do dag = { l = dag, r = dag } end
  t.dag = dag
  local replies = process.listen("reply")
  local out = {}
  for _, host in ipairs({ "esc:attacker", "esc:tight" }) do
    local echo = process.spawn("esc:atk_idle", host)
    assert(process.send(echo, "echo", t))
    local r = replies:receive()
    local d = r.dag
    for _ = 1, 40 do assert(d.l == d.r) d = d.l end
    out[host] = { self = r.self == r, shared = r.a == r.b and r.a ~= shared and #r.a == 3,
                  key = r[r] == "key is the table", dag = d.leaf == true, name = r.name }
    process.terminate(echo)
  end
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_payload_cycles", "esc:attacker", "5s"))
  for _, host in ipairs({ "esc:attacker", "esc:tight" }) do
    local x = J.ok(r[host], host)
    J.eq(x.self, true, host .. ": t.self == t")
    J.eq(x.shared, true, host .. ": shared subtable kept")
    J.eq(x.key, true, host .. ": table as its own key")
    J.eq(x.dag, true, host .. ": DAG kept")
    J.eq(x.name, "root", host)
  end
  return J.finish()
end

return M
