-- Allowed: aud:ok here and on aud:h2 (the broker decides that one again);
-- denied: aud:secret.
return { main = function()
  assert(process.spawn("aud:ok", "aud:h"))
  assert(process.spawn("aud:ok", "aud:h2"))
  local p, err = process.spawn("aud:secret", "aud:h")
  assert(p == nil and tostring(err):find("permission denied", 1, true))
  print("tenant done")
end }
