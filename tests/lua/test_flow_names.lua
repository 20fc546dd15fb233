local check = require("check")

-- The host's table of names it looked up (README "Sends across hosts"):
-- the broker tells the host when a name is released (UNNAME), before
-- anything that follows the release. An answer to a lookup and the
-- release after it can reach the host together, before the sender
-- resumes: the name must not be kept then. A busy neighbour (a spinner
-- on the sender's host) makes that likely; an owner on t:b takes and
-- releases the name thousands of times while the sender sends by name.
-- Once the owner says it holds the name no more, a send by name fails
-- with NotFound.
return { main = function()
  local me = process.pid()
  local toggled = process.listen("toggled")
  local checked = process.listen("checked")
  local late = process.listen("late")
  -- The race is likely, not certain, in one round: five rounds.
  for round = 1, 5 do
    local name = "flow_toggle_" .. me .. "_" .. round
    local spin = check.ok(process.spawn("t:spinner", "t:fair_default",
                                        "plain"))
    local s = check.ok(process.spawn("t:flow_name_sender", "t:fair_default",
                                     name, me))
    local h = check.ok(process.spawn("t:flow_toggler", "t:b", name, me, 3000))
    check.eq(check.recv(toggled, "60s", "toggler done"), h, "toggler")
    check.eq(process.send(s, "check", true), true, "tell the sender")
    local r = check.recv(checked, "60s", "sender's check")
    process.terminate(spin)
    check.eq(process.send(h, "stop", true), true, "stop the toggler")
    check.recv(late, "60s", "toggler's count")
    check.ok(r.sends > 0, "the sender sent")
    check.eq(r.ok, nil, "round " .. round .. ": a send by name after its " ..
             "release (" .. r.sends .. " sends before)")
    check.eq(r.kind, errors.NOT_FOUND, "kind")
  end
  return true
end }
