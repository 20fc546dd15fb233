-- No actor, no scope: every checked call is denied (and audited).
return { main = function()
  local p, err = process.spawn("cli:hello", "cli:h")
  return err:kind() .. ": " .. tostring(err)
end }
