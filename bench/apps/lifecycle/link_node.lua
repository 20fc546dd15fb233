-- One link of a chain: spawns the next node linked to itself and blocks;
-- the last node reports to the main actor and fails when told "go". Each
-- node dies of its successor's LINK_DOWN (no trap_links), up the chain.
return { main = function(main, depth)
  if depth > 1 then
    assert(process.spawn_linked("bench:link_node", "bench:a", main, depth - 1))
    process.listen("never"):receive()
    return true
  end
  local go = process.listen("go")
  process.send(main, "ready", process.pid())
  go:receive()
  error("end of the chain")
end }
