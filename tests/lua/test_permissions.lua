-- Every permission of the permission table is enforced for every process.*
-- call that needs it (and only for those), on the test's own host (t:a)
-- and across hosts (t:b, another OS process), and a denied call changes
-- nothing.
--
-- One case = one probe (t:perm_probe) making one call in one scope:
-- t:perm_no_X grants everything but the permission X, t:perm_full grants
-- everything (the positive control, so no case passes vacuously). The
-- probe reports the call's outcome; the test then looks for the call's
-- side effect, which must be there exactly when the call was allowed
-- (for unmonitor/unlink: exactly when it was denied, as the monitor or
-- link it should have removed stays):
--   spawn*, exec     a child (t:perm_child) tells the test it started
--   send             the target (t:perm_target) reports the message
--   terminate        the target's EXIT reaches the test; else it answers ping
--   cancel           the target reports a CANCEL event
--   monitor          the test terminates the target: EXIT at the probe
--   link             the test terminates the target (LINK_DOWN at the
--                    probe) or the probe (LINK_DOWN at the target)
--   register         the name resolves to the probe (to the target, for
--                    a foreign PID: process.registry.foreign)
--   lookup           the probe's own name resolves
--   with_*           a builder comes back
-- Calls on a target run from t:a against a target on t:a and on t:b, by
-- PID and by registered name (the broker resolves it and checks the PID;
-- by a name the caller may not look up, the call answers as for a name
-- nobody holds and does nothing);
-- registry and builder calls run from a probe on t:a and on t:b. A denial
-- must be PermissionDenied naming action and resource. The cases of a
-- phase run at once; each phase ends with a quiet period in which nothing
-- unexpected may arrive, and failures are reported all together.
-- t:perm_no_send denies process.send on every topic but "perm", the one
-- the probe reports on; the tested sends use topic "poke".
local check = require("check")
local time = require("time")

local HOSTS = check.HOSTS
local CHILD = "t:perm_child"
local FULL = "t:perm_full"
local QUIET = "200ms"
local ME = process.pid()

-- The group lacking each permission (see _index.yaml).
local NO = {
  ["process.spawn"] = "t:perm_no_spawn",
  ["process.spawn.monitored"] = "t:perm_no_spawn_monitored",
  ["process.spawn.linked"] = "t:perm_no_spawn_linked",
  ["process.host"] = "t:perm_no_host",
  ["process.exec"] = "t:perm_no_exec",
  ["process.send"] = "t:perm_no_send",
  ["process.terminate"] = "t:perm_no_terminate",
  ["process.cancel"] = "t:perm_no_cancel",
  ["process.monitor"] = "t:perm_no_monitor",
  ["process.unmonitor"] = "t:perm_no_unmonitor",
  ["process.link"] = "t:perm_no_link",
  ["process.unlink"] = "t:perm_no_unlink",
  ["process.registry.register"] = "t:perm_no_register",
  ["process.registry.unregister"] = "t:perm_no_unregister",
  ["process.registry.lookup"] = "t:perm_no_lookup",
  ["process.registry.foreign"] = "t:perm_no_foreign",
  ["process.context"] = "t:perm_no_context",
  ["process.security"] = "t:perm_no_security",
}

-- {====== Cases, reports and waiting ======

local by_tag, probe_of, target_of = {}, {}, {}
local ntag = 0
local inbox = process.listen("perm")
local ev = process.events()

local function describe(c)
  return string.format("[%s] %s%s%s%s from %s in %s", c.tag, c.op,
    c.host and " " .. c.host or "", c.by_name and (c.hidden and " by hidden name" or " by name") or "",
    c.kill and ", kill " .. c.kill or "", c.caller, c.group)
end

local function add(list, c)
  ntag = ntag + 1
  c.tag = "p" .. ntag
  c.caller = c.caller or "t:a"
  c.events, c.tevents, c.pokes, c.children, c.pongs = {}, {}, {}, {}, 0
  list[#list + 1] = c
  by_tag[c.tag] = c
  return c
end

local function absorb(m)
  local c = by_tag[m.tag]
  if c == nil then error("report for an unknown case: " .. tostring(m.tag)) end
  if m.what == "result" then
    if c.result then error(describe(c) .. ": two results") end
    c.result = m
  elseif m.what == "event" then c.events[#c.events + 1] = m
  elseif m.what == "tevent" then c.tevents[#c.tevents + 1] = m
  elseif m.what == "poke" then c.pokes[#c.pokes + 1] = m
  elseif m.what == "child" then c.children[#c.children + 1] = m
  elseif m.what == "pong" then c.pongs = c.pongs + 1
  elseif m.what == "ready" then c.target = m.pid
  else error("unknown report " .. tostring(m.what)) end
end

-- The test monitors its probes and targets.
local function on_event(e)
  if e.kind ~= process.event.EXIT then return end
  local c = target_of[e.from]
  if c then c.target_exit = e return end
  c = probe_of[e.from]
  if c then
    c.probe_exit = e
    if c.result == nil then
      error(describe(c) .. ": the probe ended without a result: " ..
        tostring(e.result.error or e.result.value))
    end
  end
end

local function step(deadline)
  local r = channel.select({ inbox:case_receive(), ev:case_receive(), deadline:case_receive() })
  if r.channel == inbox then absorb(r.value)
  elseif r.channel == ev then on_event(r.value)
  else return false end
  return true
end

-- Wait until need(c) is nil for every case of the list; on timeout fail,
-- or with 'soft' just return (what is missing is then reported in full).
local function pump(list, need, what, d, soft)
  local deadline = time.after(d or "5s")
  local i = 1
  while i <= #list do
    local miss = need(list[i])
    if miss == nil then
      i = i + 1
    elseif not step(deadline) then
      if soft then return end
      error(what .. ": timed out: " .. describe(list[i]) .. ": " .. miss, 2)
    end
  end
end

-- Take in whatever arrives within d.
local function quiet(d)
  local deadline = time.after(d or QUIET)
  while step(deadline) do end
end

local scoped = {}
local function start_probe(c)
  if scoped[c.group] == nil then
    scoped[c.group] = check.ok(process.with_context({}):with_scope({ c.group }))
  end
  c.probe = check.ok(scoped[c.group]:spawn_monitored("t:perm_probe", c.caller, {
    test = ME, tag = c.tag, op = c.op, host = c.host, target = c.dest, name = c.name,
    setup = c.setup,
  }))
  probe_of[c.probe] = c
end

-- Failures are collected and reported together at the end.
local failures = {}
local function expect(c, cond, msg)
  if not cond then failures[#failures + 1] = describe(c) .. ": " .. msg end
end

local function check_result(c)
  local r = c.result
  if c.hidden then
    -- A name the caller may not look up: answered as a name nobody holds.
    if c.op == "unmonitor" or c.op == "unlink" then
      expect(c, r.ok == true and r.value == true, "must answer true, got " .. tostring(r.kind) .. ": " .. tostring(r.msg))
    elseif c.op == "b_signal" then
      -- It may register the name, so it learns that it is taken.
      expect(c, r.ok == false and r.kind == errors.ALREADY_EXISTS,
        "must be AlreadyExists, got " .. tostring(r.kind) .. ": " .. tostring(r.msg))
    else
      local want = "could not resolve '" .. c.name .. "' as PID or registered name"
      expect(c, r.ok == false and r.kind == errors.NOT_FOUND and r.msg == want,
        "must be NotFound '" .. want .. "', got " .. tostring(r.kind) .. ": " .. tostring(r.msg))
    end
  elseif c.deny then
    expect(c, r.ok == false, "must be denied, got " .. tostring(r.value))
    expect(c, r.kind == errors.PERMISSION_DENIED,
      "error kind " .. tostring(r.kind) .. " (" .. tostring(r.msg) .. ")")
    local want = "permission denied: " .. c.deny .. " on " .. c.resource
    expect(c, r.msg ~= nil and r.msg:find(want, 1, true) ~= nil,
      "message must name action and resource: want '" .. want .. "', got '" .. tostring(r.msg) .. "'")
  else
    expect(c, r.ok == true, "must be allowed, got " .. tostring(r.kind) .. ": " .. tostring(r.msg))
  end
end

local function count(list, kind, from)
  local n = 0
  for _, e in ipairs(list) do
    if e.kind == kind and e.from == from then n = n + 1 end
  end
  return n
end

local function has(list, v)
  for _, x in ipairs(list) do if x == v then return true end end
  return false
end

local function quit_all(list)
  for _, c in ipairs(list) do
    if c.probe and not c.probe_exit then process.send(c.probe, "quit") end
    if c.target_pid and not c.target_exit then process.send(c.target_pid, "quit") end
  end
  pump(list, function(c)
    if c.probe and not c.probe_exit then return "probe exit" end
    if c.target_pid and not c.target_exit then return "target exit" end
  end, "cleanup")
end

-- }======

-- {====== Phase A: spawn, its variants, exec, and the builder's spawns ======

local SPAWN_NEEDS = {
  spawn = { "process.spawn", "process.host" },
  spawn_monitored = { "process.spawn", "process.spawn.monitored", "process.host" },
  spawn_linked = { "process.spawn", "process.spawn.linked", "process.host" },
  spawn_linked_monitored = { "process.spawn", "process.spawn.monitored",
                             "process.spawn.linked", "process.host" },
  exec = { "process.exec", "process.host" },
}
local SPAWN_OPS = { "spawn", "spawn_monitored", "spawn_linked", "spawn_linked_monitored",
                    "exec", "b_spawn", "b_spawn_monitored", "b_spawn_linked",
                    "b_spawn_linked_monitored" }
-- Every spawn-related permission is taken away in turn from every spawn
-- function: the ones it needs deny it, the others must not.
local SPAWN_PERMS = { "process.spawn", "process.spawn.monitored", "process.spawn.linked",
                      "process.exec", "process.host" }

local function phase_spawn()
  local A = {}
  for _, op in ipairs(SPAWN_OPS) do
    local needs = SPAWN_NEEDS[(op:gsub("^b_", ""))]
    for _, host in ipairs(HOSTS) do
      add(A, { op = op, host = host, group = FULL })
      for _, perm in ipairs(SPAWN_PERMS) do
        local c = add(A, { op = op, host = host, group = NO[perm] })
        if has(needs, perm) then
          c.deny = perm
          c.resource = perm == "process.host" and host or CHILD
        end
      end
    end
  end
  -- Spawn-or-signal with a free name: the broker checks
  -- process.registry.register on the name (besides the spawn's).
  for _, host in ipairs(HOSTS) do
    for _, g in ipairs({ FULL, NO["process.registry.register"], NO["process.registry.unregister"],
                         NO["process.registry.lookup"] }) do
      local c = add(A, { op = "b_spawn_named", host = host, group = g })
      c.name = "perm_n_" .. c.tag .. "_" .. ME
      if g == NO["process.registry.register"] then
        c.deny = "process.registry.register"
        c.resource = c.name
      end
    end
  end
  for _, c in ipairs(A) do start_probe(c) end
  pump(A, function(c) if c.result == nil then return "no result" end end, "spawn results")
  for _, c in ipairs(A) do check_result(c) end
  local function monitored(c) return c.op:find("monitored", 1, true) ~= nil end
  pump(A, function(c)
    if c.deny then return nil end
    if #c.children == 0 then return "child not started" end
    if monitored(c) and count(c.events, process.event.EXIT, c.children[1].pid) == 0 then
      return "no EXIT of the monitored child"
    end
  end, "spawn effects", "3s", true)
  quiet()
  for _, c in ipairs(A) do
    if c.deny then
      expect(c, #c.children == 0, "denied, yet a child started")
      expect(c, #c.events == 0, "denied, yet the probe got an event (monitor or link made)")
      if c.name then
        local v, e = process.registry.lookup(c.name)
        expect(c, v == nil and e:kind() == errors.NOT_FOUND, "denied, yet the name is registered")
      end
    else
      expect(c, #c.children == 1, #c.children .. " children started")
      local child = c.children[1].pid
      if c.op == "exec" then
        expect(c, c.result.value == c.tag, "exec returns the child's value, got " .. tostring(c.result.value))
      else
        expect(c, c.result.value == child, "spawn returns the child's PID")
      end
      expect(c, child:find("{" .. c.host .. "|", 1, true) == 1, "child runs on " .. c.host .. ": " .. child)
      local want = monitored(c) and 1 or 0
      expect(c, #c.events == want and count(c.events, process.event.EXIT, child) == want,
        "the probe must get " .. want .. " EXIT (and nothing else), got " .. #c.events .. " events")
    end
  end
  quit_all(A)
  return #A
end

-- }======

-- {====== Phase B: calls on a target PID (or a name), on t:a and t:b ======

-- effect: what the call does when allowed; kill: whom the test terminates
-- after the call to see a monitor or link; undo: the call removes what a
-- setup step made (unmonitor, unlink), so the effect is there when denied.
local TARGET_OPS = {
  { op = "send", action = "process.send", effect = "poke" },
  { op = "terminate", action = "process.terminate", effect = "target_exit" },
  { op = "cancel", action = "process.cancel", effect = "cancel" },
  { op = "monitor", action = "process.monitor", effect = "probe_exit", kill = "target" },
  { op = "unmonitor", action = "process.unmonitor", effect = "probe_exit", kill = "target", undo = true },
  { op = "link", action = "process.link", effect = "probe_link_down", kill = "target" },
  { op = "unlink", action = "process.unlink", effect = "probe_link_down", kill = "target", undo = true },
  { op = "link", action = "process.link", effect = "target_link_down", kill = "probe" },
  { op = "unlink", action = "process.unlink", effect = "target_link_down", kill = "probe", undo = true },
}

local function effect_seen(c)
  local e = c.effect
  if e == "poke" then return #c.pokes > 0
  elseif e == "target_exit" then return c.target_exit ~= nil
  elseif e == "cancel" then return count(c.tevents, process.event.CANCEL, c.probe) > 0
  elseif e == "probe_exit" then return count(c.events, process.event.EXIT, c.target_pid) > 0
  elseif e == "probe_link_down" then return count(c.events, process.event.LINK_DOWN, c.target_pid) > 0
  elseif e == "target_link_down" then return count(c.tevents, process.event.LINK_DOWN, c.probe) > 0
  end
  error("unknown effect " .. tostring(e))
end

local function phase_targets()
  local B = {}
  for _, t in ipairs(TARGET_OPS) do
    for _, host in ipairs(HOSTS) do
      for _, by_name in ipairs({ false, true }) do
        for _, g in ipairs({ FULL, NO[t.action] }) do
          local c = add(B, { op = t.op, host = host, by_name = by_name, group = g,
                             effect = t.effect, kill = t.kill })
          if g ~= FULL then c.deny = t.action end
          c.want = (c.deny == nil) ~= (t.undo == true)
        end
      end
    end
  end
  -- By a name the caller may not look up: nothing happens (the setup of
  -- unmonitor and unlink goes by PID).
  for _, t in ipairs(TARGET_OPS) do
    for _, host in ipairs(HOSTS) do
      local c = add(B, { op = t.op, host = host, by_name = true, group = NO["process.registry.lookup"],
                         effect = t.effect, kill = t.kill, hidden = true })
      c.want = t.undo == true
    end
  end
  -- Spawn-or-signal with a taken name: the queued message goes to the
  -- holder, which needs process.send on it, and a lookup of the name.
  for _, host in ipairs(HOSTS) do
    for _, g in ipairs({ FULL, NO["process.send"], NO["process.registry.lookup"] }) do
      local c = add(B, { op = "b_signal", host = host, by_name = true, group = g, effect = "poke" })
      if g == NO["process.send"] then c.deny = "process.send" end
      c.hidden = g == NO["process.registry.lookup"] or nil
      c.want = c.deny == nil and not c.hidden
    end
  end
  -- Targets first (the test is allowed everything; it monitors them).
  for _, c in ipairs(B) do
    if c.by_name then c.name = "perm_t_" .. c.tag .. "_" .. ME end
    c.target_pid = check.ok(process.spawn_monitored("t:perm_target", c.host, ME, c.tag, c.name))
    target_of[c.target_pid] = c
  end
  pump(B, function(c) if c.target == nil then return "target not ready" end end, "targets")
  for _, c in ipairs(B) do
    check.eq(c.target, c.target_pid, "target PID")
    c.dest = c.by_name and c.name or c.target_pid
    if c.hidden then c.setup = c.target_pid end
    -- By name, the broker resolves the name and names the PID it checked.
    c.resource = c.target_pid
    start_probe(c)
  end
  pump(B, function(c) if c.result == nil then return "no result" end end, "target results")
  for _, c in ipairs(B) do check_result(c) end
  -- Show the monitors and links (or their absence); ping the targets that
  -- must still live.
  for _, c in ipairs(B) do
    if c.kill == "target" then check.ok(process.terminate(c.target_pid))
    elseif c.kill == "probe" then check.ok(process.terminate(c.probe))
    end
  end
  for _, c in ipairs(B) do
    c.pinged = c.kill ~= "target" and not (c.op == "terminate" and not c.deny)
    if c.pinged then check.ok(process.send(c.target_pid, "ping")) end
  end
  pump(B, function(c)
    if c.want and not effect_seen(c) then return "no " .. c.effect end
    if c.pinged and c.pongs == 0 then return "no pong" end
    if c.kill == "target" and not c.target_exit then return "target not terminated" end
    if c.kill == "probe" and not c.probe_exit then return "probe not terminated" end
  end, "target effects", "3s", true)
  quiet()
  for _, c in ipairs(B) do
    local seen = effect_seen(c)
    if c.want and not seen then
      expect(c, false, "expected " .. c.effect .. (c.deny and " (the denied call must leave things as they were)" or ""))
    elseif seen and not c.want then
      expect(c, false, "unexpected " .. c.effect .. (c.deny and " (side effect of a denied call)" or " (the call had no effect)"))
    end
    -- Nothing else happened.
    local want_pokes = c.effect == "poke" and c.want and 1 or 0
    expect(c, #c.pokes == want_pokes, #c.pokes .. " messages reached the target")
    if #c.pokes == 1 then
      expect(c, c.pokes[1].payload == c.tag, "message payload")
      -- Queued messages of a builder have no sender.
      expect(c, c.pokes[1].from == (c.op ~= "b_signal" and c.probe or nil), "message sender")
    end
    expect(c, #c.children == 0, "a child started")
    local want_probe_ev = (c.effect == "probe_exit" or c.effect == "probe_link_down") and c.want and 1 or 0
    expect(c, #c.events == want_probe_ev, #c.events .. " events at the probe, want " .. want_probe_ev)
    local want_target_ev = (c.effect == "cancel" or c.effect == "target_link_down") and c.want and 1 or 0
    expect(c, #c.tevents == want_target_ev, #c.tevents .. " events at the target, want " .. want_target_ev)
    if c.pinged then
      expect(c, c.pongs == 1, "target must still answer")
      expect(c, c.target_exit == nil, "target must still live")
    end
    if c.op == "terminate" and c.want then
      expect(c, tostring(c.target_exit.result.error):find("process terminated", 1, true) ~= nil,
        "terminated: " .. tostring(c.target_exit.result.error))
    end
    if c.op == "b_signal" and c.want then
      expect(c, c.result.value == c.target_pid, "spawn-or-signal returns the holder's PID")
    end
  end
  quit_all(B)
  return #B
end

-- }======

-- {====== Phase C: registry and builder settings, from t:a and from t:b ======

local OTHER_OPS = {
  -- op, action, resource, controls: groups lacking another permission
  -- (the call must still work)
  { op = "register", action = "process.registry.register",
    controls = { "process.registry.unregister", "process.registry.foreign" } },
  { op = "unregister", action = "process.registry.unregister", controls = {} },
  { op = "lookup", action = "process.registry.lookup", controls = { "process.registry.foreign" } },
  -- A name for the test's target (a foreign PID) on the caller's host.
  { op = "register_foreign", action = "process.registry.foreign", controls = { "process.registry.lookup" } },
  { op = "with_context", action = "process.context", resource = "context", controls = { "process.security" } },
  -- Reaching b:with_context needs a builder, hence process.context: its
  -- own check cannot fail on its own; only the allowed side is tested.
  { op = "b_with_context", controls = { "process.security" } },
  { op = "with_actor", action = "process.security", resource = "security", controls = {} },
  { op = "with_scope", action = "process.security", resource = "security", controls = {} },
}

local function phase_other()
  local C = {}
  for _, t in ipairs(OTHER_OPS) do
    for _, caller in ipairs(HOSTS) do
      local groups = { FULL }
      if t.action then groups[#groups + 1] = NO[t.action] end
      for _, p in ipairs(t.controls) do groups[#groups + 1] = NO[p] end
      for _, g in ipairs(groups) do
        local c = add(C, { op = t.op, caller = caller, group = g })
        if t.op:find("register", 1, true) or t.op == "lookup" then c.name = "perm_r_" .. c.tag .. "_" .. ME end
        if g == NO[t.action] then
          c.deny = t.action
          c.resource = t.resource or c.name
        end
      end
    end
  end
  local foreign = {}
  for _, c in ipairs(C) do
    if c.op == "register_foreign" then
      foreign[#foreign + 1] = c
      c.target_pid = check.ok(process.spawn_monitored("t:perm_target", c.caller, ME, c.tag))
      target_of[c.target_pid] = c
    end
  end
  pump(foreign, function(c) if c.target == nil then return "target not ready" end end, "targets")
  for _, c in ipairs(foreign) do
    c.dest = c.target_pid
    if c.deny then c.resource = c.target_pid end
  end
  for _, c in ipairs(C) do start_probe(c) end
  pump(C, function(c) if c.result == nil then return "no result" end end, "other results")
  for _, c in ipairs(C) do check_result(c) end
  for _, c in ipairs(C) do
    if c.op == "register" or c.op == "unregister" or c.op == "register_foreign" then
      local holder = process.registry.lookup(c.name)
      -- The name is held by the probe (alive until told to quit), or the
      -- target, exactly when register was allowed or unregister denied.
      local want = (c.op ~= "unregister") == (c.deny == nil)
      local who = c.op == "register_foreign" and c.target_pid or c.probe
      expect(c, (holder == who) == want,
        "name " .. c.name .. (want and " must" or " must not") .. " resolve to " .. who .. ": " .. tostring(holder))
      if not c.deny then expect(c, c.result.value == true, "returns true") end
    elseif c.op == "lookup" then
      check.eq(process.registry.lookup(c.name), c.probe, "the probe holds " .. c.name)
      if not c.deny then expect(c, c.result.value == c.probe, "lookup returns the probe's PID") end
    elseif not c.deny then
      expect(c, c.result.value == "builder", "returns a builder")
    end
  end
  quiet("50ms")
  for _, c in ipairs(C) do
    expect(c, #c.events == 0 and #c.children == 0, "no other effect")
  end
  quit_all(C)
  return #C
end

-- }======

return { main = function()
  local t0 = time.now()
  local n = phase_spawn()
  n = n + phase_targets()
  n = n + phase_other()
  if #failures > 0 then
    error(#failures .. " failure(s) in " .. n .. " cases:\n  " .. table.concat(failures, "\n  "))
  end
  check.eq(n, 254, "number of cases")
  local ms = time.now():sub(t0):milliseconds()
  check.ok(ms < 10000, "took " .. ms .. " ms")
  return true
end }
