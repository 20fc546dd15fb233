-- The request of a process on lv:caller waits on lv:patient (stopped by
-- the test) when lv:caller is killed; then lv:patient is continued and
-- answers it: that answer goes to nobody, and is no forgery. The test
-- stops lv:patient and kills lv:flag's host once this prints "ready"; it
-- kills lv:caller's host once the broker has carried the request (its
-- audit record shows); it continues lv:patient once this prints "caller
-- died".
return { main = function()
  local ev = process.events()
  local s = assert(process.spawn_monitored("lv:sleeper", "lv:patient"))
  local p = assert(process.spawn_monitored("lv:pinger", "lv:caller", s))
  local f = assert(process.spawn_monitored("lv:sleeper", "lv:flag"))
  local function exit_of(pid)
    while true do
      local e = ev:receive()
      if e.kind == process.event.EXIT and e.from == pid then return e end
    end
  end
  print("ready")
  exit_of(f)
  assert(process.send(p, "go", true))
  exit_of(p)
  print("caller died")
  assert(process.send(s, "ping", 1))
  print("patient answers")
  assert(process.terminate(s))
  print("sleeper: " .. tostring(exit_of(s).result.error))
  return "done"
end }
