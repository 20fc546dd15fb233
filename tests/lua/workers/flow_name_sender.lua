-- Sends by name to 'name' in a loop until "check" comes (NotFound is
-- expected while the owner toggles it), then sends by name once more
-- and tells 'report' ("checked") what that send returned.
return { main = function(name, report)
  local time = require("time")
  local check = process.listen("check")
  local i = 0
  while channel.select({ check:case_receive() }, true).default do
    i = i + 1
    process.send(name, "x", i)
    if i % 8 == 0 then time.sleep("1ms") end
  end
  local ok, err = process.send(name, "x", -1)
  process.send(report, "checked", { ok = ok, kind = err and err:kind(),
                                     sends = i })
  return true
end }
