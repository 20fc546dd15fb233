-- test_permissions: a child whose start is the side effect of a spawn.
-- Tells the test it runs (tag, own PID) and returns the tag (exec's value).
return { main = function(test, tag)
  process.send(test, "perm", { tag = tag, what = "child", pid = process.pid() })
  return tag
end }
