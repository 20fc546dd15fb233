-- test_state_reuse: one run of an actor whose state the next run of the
-- same entry (same actor, same scope) gets back after a reset. "leave"
-- keeps a secret in a global, a table and a string made at run time, and
-- shows a few objects; "probe" reports what it can find of them. Each
-- run sends its report to the test on topic "reuse" and returns.
return { main = function(test, mode, secret)
  if mode == "leave" then
    leaked = secret
    leaked_t = { secret = secret, list = { 1, 2, 3 } }
    for _ = 1, 5 do local _ = tostring({}) end
    -- A string made at run time, not a constant of this chunk.
    local s = string.rep(secret, 2)
    process.send(test, "reuse", { mode = mode, len = #s })
    return true
  end
  local r = { mode = mode }
  r.global = rawget(_G, "leaked")
  r.table = rawget(_G, "leaked_t")
  r.id = tostring({})
  -- Making the secret string again allocates it: it is not in the state
  -- (a dead string still interned would be found again without an
  -- allocation, and the heap would not grow by its size). The same calls
  -- on another string of that length come first, so that the stack and
  -- call frames they need exist already.
  local _ = string.rep("#", 2 * #secret)
  local before = collectgarbage("count")
  local s = string.rep(secret, 2)
  local after = collectgarbage("count")
  r.grew = (after - before) * 1024 >= #s
  r.len = #s
  process.send(test, "reuse", r)
  return true
end }
