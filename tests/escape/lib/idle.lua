-- An attacker-owned helper (esc:atk_idle): echoes "echo" messages back to
-- their sender on "reply"; otherwise does nothing until terminated. Used as
-- a witness on the attacker's hosts and as an echo for payload tests.
return { main = function()
  local ch = process.listen("echo", { message = true })
  while true do
    local m = ch:receive()
    process.send(m:from(), "reply", m:payload())
  end
end }
