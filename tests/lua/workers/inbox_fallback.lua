-- Reports where messages landed: the "specific" listener or the inbox.
return { main = function(parent)
  local inbox = process.inbox()
  local specific = process.listen("specific")
  process.send(parent, "ready")
  local got = {}
  for _ = 1, 3 do
    local r = channel.select({ specific:case_receive(), inbox:case_receive() })
    if r.channel == specific then
      got[#got + 1] = "specific:" .. tostring(r.value)
    else
      got[#got + 1] = "inbox:" .. r.value:topic() .. ":" .. tostring(r.value:payload())
    end
  end
  process.send(parent, "report", got)
end }
