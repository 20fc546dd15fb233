-- A caller that may not look a name up learns nothing about it: lookup
-- is denied (PermissionDenied, whether or not the name is held), and a
-- send, monitor, unmonitor, link, unlink, cancel, terminate or
-- spawn-or-signal by that name answers exactly as for a name nobody
-- holds, and reaches nobody. Registering a name for another process
-- (here the caller's own child) needs process.registry.foreign on its
-- PID. Probes run on t:a and t:b; the hidden names are held on t:a and
-- t:b, so every call is tried within a host and across hosts.
--
-- t:oracle may not look up, nor register, names ro_h*, nor register a
-- foreign PID; t:oracle_reg may not look up names ro_h* (it may register
-- them, and foreign PIDs). A caller allowed to register a name learns
-- whether it is free, from the registration: so with t:oracle_reg a
-- spawn-or-signal by a held hidden name is AlreadyExists, as
-- registry.register says, and signals nobody.
local check = require("check")
local time = require("time")

local ME = process.pid()
local inbox = process.listen("oracle")
local ev = process.events()

-- The name 'n' of a message replaced by 'ghost', to compare the two.
local function as_ghost(msg, n, ghost)
  if msg == nil then return nil end
  local i, j = msg:find(n, 1, true)
  while i do
    msg = msg:sub(1, i - 1) .. ghost .. msg:sub(j + 1)
    i, j = msg:find(n, i + #ghost, true)
  end
  return msg
end

local function same(a, b)
  return a.ok == b.ok and a.value == b.value and a.kind == b.kind and a.msg == b.msg
end

local function show(r)
  return string.format("{ok=%s value=%s kind=%s msg=%s}", tostring(r.ok),
    tostring(r.value), tostring(r.kind), tostring(r.msg))
end

return { main = function()
  local failures = {}
  local function expect(cond, msg) if not cond then failures[#failures + 1] = msg end end

  -- Holders on both hosts, and a visible name.
  local hidden = { "ro_h_a_" .. ME, "ro_h_b_" .. ME }
  local visible = "ro_v_" .. ME
  local holders = {}
  holders[1] = check.ok(process.spawn_monitored("t:oracle_holder", "t:a", ME, { hidden[1], visible }))
  holders[2] = check.ok(process.spawn_monitored("t:oracle_holder", "t:b", ME, { hidden[2] }))
  for _ = 1, 2 do
    local m = check.recv(inbox, "3s", "holder ready")
    check.eq(m.what, "ready", "holder ready")
  end
  check.eq(process.registry.lookup(hidden[1]), holders[1], "the test sees the hidden names")
  check.eq(process.registry.lookup(hidden[2]), holders[2])
  -- A send by name keeps the name on the host (runtime/flow.c): t:a
  -- now resolves both without the broker; its probes must still learn
  -- nothing.
  check.eq(process.send(hidden[1], "warm", 1), true, "warm the name table")
  check.eq(process.send(hidden[2], "warm", 1), true, "warm the name table")

  -- Probes: each group from each host.
  local probes, ntag = {}, 0
  for _, group in ipairs({ "t:oracle", "t:oracle_reg" }) do
    for _, host in ipairs(check.HOSTS) do
      ntag = ntag + 1
      local tag = "o" .. ntag
      -- A ghost name per probe: a free name registers on a spawn-or-signal.
      local ghost = "ro_h_ghost_" .. tag .. "_" .. ME
      local names = { hidden[1], hidden[2], ghost }
      local b = check.ok(process.with_context({}):with_scope({ group }))
      local pid = check.ok(b:spawn_monitored("t:oracle_probe", host, {
        test = ME, tag = tag, host = host, names = names, visible = visible,
        foreign = "ro_f_" .. tag .. "_" .. ME,
      }))
      probes[tag] = { pid = pid, group = group, host = host, ghost = ghost }
    end
  end
  local got, reached = 0, {}
  local deadline = time.after("5s")
  while got < ntag do
    local r = channel.select({ inbox:case_receive(), ev:case_receive(), deadline:case_receive() })
    if r.channel == inbox then
      local m = r.value
      if m.what == "result" then
        probes[m.tag].r = m
        got = got + 1
      elseif m.what == "reached" then
        reached[#reached + 1] = m
      end
    elseif r.channel == ev then
      if r.value.kind == process.event.EXIT then
        for tag, p in pairs(probes) do
          if p.pid == r.value.from and not p.r then
            error("probe " .. tag .. " ended: " .. tostring(r.value.result.error))
          end
        end
        for _, h in ipairs(holders) do
          expect(r.value.from ~= h, "a holder ended: " .. tostring(r.value.result.error))
        end
      end
    else
      error("probe results: timed out")
    end
  end

  for tag, p in pairs(probes) do
    local r, ghost = p.r, p.ghost
    local where = tag .. " (" .. p.group .. " on " .. p.host .. ")"
    local by = {}
    for _, c in ipairs(r.calls) do
      by[c.op] = by[c.op] or {}
      by[c.op][c.name] = c.res
    end
    for op, res in pairs(by) do
      local g = res[ghost]
      for _, n in ipairs(hidden) do
        local h = res[n]
        local hg = { ok = h.ok, value = h.value, kind = h.kind, msg = as_ghost(h.msg, n, ghost) }
        -- With t:oracle_reg a held name cannot be taken: AlreadyExists.
        if not (op == "b_signal" and p.group == "t:oracle_reg") then
          expect(same(hg, g), where .. ": " .. op .. " " .. n .. " answers " .. show(h) ..
            ", unlike an unregistered name: " .. show(g))
        else
          expect(not h.ok and h.kind == errors.ALREADY_EXISTS,
            where .. ": " .. op .. " " .. n .. ": " .. show(h))
        end
      end
      -- What an unregistered name answers.
      if op == "lookup" then
        expect(g.kind == errors.PERMISSION_DENIED and g.msg ~= nil and
          g.msg:find("permission denied: process.registry.lookup on " .. ghost, 1, true) ~= nil,
          where .. ": lookup: " .. show(g))
      elseif op == "unmonitor" or op == "unlink" then
        expect(g.ok and g.value == true, where .. ": " .. op .. ": " .. show(g))
      elseif op == "b_signal" then
        if p.group == "t:oracle" then
          expect(g.kind == errors.PERMISSION_DENIED and g.msg ~= nil and
            g.msg:find("process.registry.register on " .. ghost, 1, true) ~= nil,
            where .. ": b_signal: " .. show(g))
        else
          expect(g.ok, where .. ": b_signal of a free name spawns: " .. show(g))
          if g.ok then process.terminate(g.value) end
        end
      else
        expect(g.kind == errors.NOT_FOUND and
          g.msg == "could not resolve '" .. ghost .. "' as PID or registered name",
          where .. ": " .. op .. ": " .. show(g))
      end
    end
    expect(r.visible.ok and r.visible.value == holders[1], where .. ": visible name: " .. show(r.visible))
    expect(r.self.ok, where .. ": register for itself: " .. show(r.self))
    check.eq(process.registry.lookup(r.self_name), r.me, where .. ": registered for itself")
    if p.group == "t:oracle" then
      expect(not r.foreign.ok and r.foreign.kind == errors.PERMISSION_DENIED and
        r.foreign.msg:find("permission denied: process.registry.foreign on " .. r.child, 1, true) ~= nil,
        where .. ": register for its child: " .. show(r.foreign))
      expect(process.registry.lookup(r.child_name) == nil, where .. ": the denied name is not held")
    else
      expect(r.foreign.ok, where .. ": register for its child: " .. show(r.foreign))
      expect(process.registry.lookup(r.child_name) == r.child, where .. ": the name is the child's")
    end
  end

  -- Nothing reached the holders (no message, no cancel, no link).
  local quiet = time.after("200ms")
  while true do
    local r = channel.select({ inbox:case_receive(), quiet:case_receive() })
    if r.channel ~= inbox then break end
    if r.value.what == "reached" then reached[#reached + 1] = r.value end
  end
  for _, m in ipairs(reached) do
    expect(false, "holder " .. m.holder .. " was reached: " .. m.detail)
  end
  for _, p in pairs(probes) do process.send(p.pid, "quit") end
  for _, h in ipairs(holders) do process.send(h, "quit") end
  if #failures > 0 then
    error(#failures .. " failure(s):\n  " .. table.concat(failures, "\n  "))
  end
  return true
end }
