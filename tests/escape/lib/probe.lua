-- An attacker-owned probe (esc:atk_probe): a fresh actor reports what its
-- own library tables look like, to show that tampering in another actor
-- of the same host did not reach it.
return { main = function()
  return {
    upper = ("x"):upper(),
    lower = ("X"):lower(),
    rep = string.rep("ab", 2),
    format = string.format("%d", 7),
    insert = (function() local t = {} table.insert(t, "i") return t[1] end)(),
    tostring = tostring(12),
    send = type(process.send),
    pairs = type(pairs),
    mt_index = getmetatable("").__index == string,
  }
end }
