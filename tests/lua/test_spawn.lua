local check = require("check")

return { main = function()
  local args = process.listen("args")
  for _, host in ipairs({ "t:a", "t:b" }) do
    local pid = check.ok(process.spawn("t:reply_args", host, process.pid(), "x", 2, { k = true }))
    check.ok(type(pid) == "string")
    local v = check.recv(args, "2s", "args from " .. host)
    check.eq(v.n, 3, "arg count")
    check.eq(v[1], "x")
    check.eq(v[2], 2)
    check.eq(v[3].k, true)
  end
  -- Errors.
  check.fails(errors.INVALID, process.spawn("t:echo"))
  check.fails(errors.NOT_FOUND, process.spawn("t:nope", "t:a"))
  check.fails(errors.NOT_FOUND, process.spawn("t:nope", "t:b"))
  check.fails(errors.NOT_FOUND, process.spawn("t:echo", "t:nohost"))
  local lp, lerr = process.spawn("t:check", "t:a")
  check.fails(errors.NOT_FOUND, lp, lerr, "library")
  -- An entry pinned to a host runs only there.
  check.fails(errors.NOT_FOUND, process.spawn("t:hog", "t:a"))
  check.fails(errors.INVALID, process.spawn("t:bad_syntax", "t:a"))
  local err = check.fails(errors.INVALID, process.spawn("t:bad_syntax", "t:b"))
  check.ok(tostring(err):find("bad_syntax.lua:1", 1, true), tostring(err))
  check.fails(errors.INVALID, process.spawn("t:echo", "t:a", function() end))
  return true
end }
