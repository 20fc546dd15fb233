-- Attack: fill a host with processes — a loop of spawns, and a fork bomb
-- where every child spawns two more (linked, so one terminate ends it).
-- Expected (host esc:tight, max_processes: 50): the spawn that would
-- exceed the limit fails with LimitExceeded naming it; exactly 50 live
-- processes fit (49 beside the judge's witness); terminated processes free
-- their slots; the fork bomb saturates at the limit and is cleaned up by
-- one terminate; the canary is unaffected.
local time = require("time")
local M = {}

-- One node of the fork bomb: spawn two linked children, then wait.
local function bomb()
  for _ = 1, 2 do process.spawn_linked("esc:atk_spawn_bomb", "esc:tight", "node") end
  process.listen("never"):receive()
end

local function fill(ev)
  local pids, err = {}, nil
  for _ = 1, 200 do
    local p, e = process.spawn_monitored("esc:atk_idle", "esc:tight")
    if not p then err = e break end
    pids[#pids + 1] = p
  end
  for _, p in ipairs(pids) do process.terminate(p) end
  local left = #pids
  while left > 0 do
    local r = channel.select({ ev:case_receive(), time.after("3s"):case_receive() })
    if r.channel ~= ev then break end
    if r.value.kind == process.event.EXIT then left = left - 1 end
  end
  return #pids, err and err:kind(), err and tostring(err), left
end

function M.attack(how)
  if how == "node" then return bomb() end
  process.set_options({ trap_links = true })
  local ev = process.events()
  local out = {}
  out.n1, out.kind, out.msg, out.left1 = fill(ev)
  out.n2, out.kind2, _, out.left2 = fill(ev)
  -- The fork bomb.
  local root = process.spawn_monitored("esc:atk_spawn_bomb", "esc:tight", "node")
  time.sleep("300ms")
  local p, e = process.spawn("esc:atk_idle", "esc:tight")
  out.full_kind = not p and e:kind()
  process.terminate(root)
  time.sleep("300ms")
  p = process.spawn("esc:atk_idle", "esc:tight")
  out.after = p ~= nil
  if p then process.terminate(p) end
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local witness = J.spawn("esc:atk_idle", "esc:tight")
  local r = J.value(J.attack("esc:atk_spawn_bomb", "esc:attacker", "10s", "loop"))
  J.eq(r.kind, errors.LIMIT_EXCEEDED, "spawn over max_processes")
  J.has(r.msg, "max processes limit exceeded (50 on host esc:tight)", "the error names the limit")
  J.eq(r.n1, 49, "processes that fit beside the witness")
  J.eq(r.left1, 0, "every spawned process exited")
  J.eq(r.n2, 49, "slots freed by terminate")
  J.eq(r.kind2, errors.LIMIT_EXCEEDED, "second fill")
  J.eq(r.full_kind, errors.LIMIT_EXCEEDED, "fork bomb saturates the host")
  J.eq(r.after, true, "one terminate ends the fork bomb")
  J.alive(witness, "witness on esc:tight")
  return J.finish()
end

return M
