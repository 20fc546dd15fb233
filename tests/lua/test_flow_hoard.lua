local check = require("check")

-- Messages waiting to be sent count against their sender's memory: an
-- actor on t:flowmem (memory 8 MiB, mailbox 10) starts 300 tasks that
-- each send 1,000,000 bytes to a process of its host whose mailbox is
-- full. Without a bound, the 300 messages (300 MB, outside the Lua
-- allocator) wait together for send_timeout on a host whose processes
-- may use 8 MiB each; with it, those past the sender's memory limit fail
-- at once (LimitExceeded naming memory) and at most 8 wait.
return { main = function()
  local me = process.pid()
  local hoard = process.listen("hoard")
  local sink = check.ok(process.spawn("t:sleeper", "t:flowmem", "600s"))
  check.ok(process.spawn("t:flow_hoard", "t:flowmem", sink, 300, me))
  local r = check.recv(hoard, "120s", "hoarder's report")
  process.terminate(sink)
  local parts = {}
  for k, v in pairs(r) do parts[#parts + 1] = k .. "=" .. v end
  local what = table.concat(parts, " ")
  check.eq(r.ok, nil, "no send went through: " .. what)
  check.ok((r.timeout or 0) <= 8, "at most 8 MB waited: " .. what)
  check.eq((r.timeout or 0) + (r["at once"] or 0), 300, what)
  return true
end }
