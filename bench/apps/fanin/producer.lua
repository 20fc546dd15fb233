-- Sends k integers to 'dest' on "m", one plain send after the other, and
-- reports how many were accepted and refused on "done".
return { main = function(dest, k)
  local send, sent, refused = process.send, 0, 0
  for i = 1, k do
    if send(dest, "m", i) then sent = sent + 1 else refused = refused + 1 end
  end
  send(dest, "done", { sent = sent, refused = refused })
end }
