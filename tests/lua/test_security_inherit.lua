-- Every process carries an actor and a scope; children inherit both, also
-- across hosts. The test entry's own come from its manifest security block.
local check = require("check")
local security = require("security")

return { main = function()
  local a = security.actor()
  check.eq(a.id, "tester", "actor from the manifest")
  check.eq(table.concat(security.scope(), ","), "t:testers,t:extra", "scope")
  -- Views are copies: changing them changes nothing.
  a.id = "root"
  check.eq(security.actor().id, "tester", "actor view is a copy")
  local ch = process.listen("security")
  process.spawn("t:report_security", "t:a", process.pid(), "t:b")
  for _ = 1, 2 do
    local v = check.recv(ch, "2s", "security report")
    check.eq(v[1], "tester", "inherited actor")
    check.eq(v[2], "t:testers,t:extra", "inherited scope")
  end
  return true
end }
