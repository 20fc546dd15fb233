-- test_registry_oracle: runs in a group that may not look up the names
-- ro_h* (see _index.yaml) and calls every by-name function with each of
-- the hidden names (held on t:a and t:b) and with a ghost name nobody
-- holds, then registers names for itself and for its own child (a
-- foreign PID), and reports every outcome to the test on "oracle".
local function out(v, err)
  local r = { ok = v ~= nil and v ~= false }
  if type(v) == "string" or type(v) == "boolean" then r.value = v end
  if err ~= nil then
    r.kind = type(err) == "userdata" and err:kind() or type(err)
    r.msg = tostring(err)
  end
  return r
end

-- Terminate last: before the fix it kills the holder.
local OPS = { "lookup", "send", "monitor", "unmonitor", "link", "unlink",
              "cancel", "b_signal", "terminate" }

local function call(op, n, host)
  if op == "lookup" then return process.registry.lookup(n)
  elseif op == "send" then return process.send(n, "poke", "send")
  elseif op == "monitor" then return process.monitor(n)
  elseif op == "unmonitor" then return process.unmonitor(n)
  elseif op == "link" then return process.link(n)
  elseif op == "unlink" then return process.unlink(n)
  elseif op == "cancel" then return process.cancel(n)
  elseif op == "terminate" then return process.terminate(n)
  elseif op == "b_signal" then
    return process.with_context({}):with_name(n):with_message("poke", "signal")
      :spawn("t:blocker", host)
  end
  error("unknown op " .. op)
end

return { main = function(s)
  process.set_options({ trap_links = true })
  local host = s.host
  local r = { tag = s.tag, what = "result", calls = {} }
  for _, op in ipairs(OPS) do
    for _, n in ipairs(s.names) do
      r.calls[#r.calls + 1] = { op = op, name = n, res = out(call(op, n, host)) }
    end
  end
  -- A visible name resolves (the positive control).
  r.visible = out(process.registry.lookup(s.visible))
  -- Registering for itself needs no process.registry.foreign; for its
  -- own child it does.
  local me = process.pid()
  r.self_name = s.foreign .. "_self"
  r.self = out(process.registry.register(r.self_name))
  local child = assert(process.spawn("t:blocker", host))
  r.child = child
  r.child_name = s.foreign .. "_child"
  r.foreign = out(process.registry.register(r.child_name, child))
  r.me = me
  process.send(s.test, "oracle", r)
  process.listen("quit"):receive()
  process.terminate(child)
  return "quit"
end }
