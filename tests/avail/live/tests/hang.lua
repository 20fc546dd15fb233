-- Leaves a witness on host lt:h2, then never ends (ward test times it out).
return { main = function()
  local ready = process.listen("ready")
  assert(process.spawn("lt:witness", "lt:h2", process.pid()))
  ready:receive()
  process.inbox():receive()
end }
