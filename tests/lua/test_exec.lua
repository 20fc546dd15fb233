-- process.exec: spawn, wait, return the child's value or nil, err; the EXIT
-- never shows on events().
local check = require("check")

return { main = function()
  local ev = process.events()
  for _, host in ipairs(check.HOSTS) do
    local v, err = process.exec("t:value_exit", host, { n = 7 })
    check.eq(err, nil)
    check.eq(v.n, 7, "exec value on " .. host)
    v, err = process.exec("t:error_exit", host, "exec failure")
    check.eq(v, nil)
    check.ok(tostring(err):find("exec failure", 1, true), tostring(err))
    check.fails(errors.NOT_FOUND, process.exec("t:nope", host))
  end
  local r = channel.select({ ev:case_receive(), default = true })
  check.eq(r.default, true, "no EXIT on events() from exec")
  check.fails(errors.INVALID, process.exec("noseparator", "t:a"))
  check.fails(errors.INVALID, process.exec("t:value_exit"))
  return true
end }
