-- A library whose top level never ends (require runs it inside a C call).
while true do end
