-- A process on lv:busy (liveness 1s) runs Lua for 2 to 3 s: an
-- honest busy host is governed by its turn deadline, never by liveness.
return { main = function()
  return process.exec("lv:spin", "lv:busy", 3)
end }
