-- The witness of the timed-out test is still alive: its host (lt:h2) was
-- not killed with the timed-out test's host (lt:h1).
return { main = function()
  local w, err = process.registry.lookup("witness")
  if not w then return nil, "witness gone: " .. tostring(err) end
  assert(process.send(w, "hello", 1))
  return true
end }
