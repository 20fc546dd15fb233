-- A process on lv:busy (liveness 1s) runs Lua for 3 s of CPU time: an
-- honest busy host is governed by its turn deadline, never by liveness.
return { main = function()
  return process.exec("lv:spin", "lv:busy", 3)
end }
