-- The Lua environment holds ARCHITECTURE.md §7 and nothing more.
local check = require("check")

return { main = function()
  for _, name in ipairs({ "io", "debug", "package", "dofile", "loadfile" }) do
    check.eq(_G[name], nil, name .. " must be absent")
  end
  check.eq(string.dump, nil, "string.dump")
  check.eq(os.execute, nil, "os.execute")
  check.eq(os.getenv, nil, "os.getenv")
  check.eq(os.remove, nil, "os.remove")
  check.eq(os.exit, nil, "os.exit")
  check.eq(type(os.time()), "number", "os.time")
  check.eq(type(os.clock()), "number", "os.clock")
  -- load takes text only.
  check.eq(load("return 1 + 1")(), 2, "load text")
  local f, err = load("\27Lua\84\0garbage")
  check.eq(f, nil, "binary chunk refused")
  check.ok(tostring(err):find("binary", 1, true), tostring(err))
  check.ok(not pcall(load, function() return "x" end), "reader functions refused")
  local env = { y = 5 }
  check.eq(load("return y", "chunk", "t", env)(), 5, "load with env")
  -- require: built-ins and imports only.
  check.eq(type(require("time").sleep), "function")
  check.ok(not pcall(require, "io"), "require io")
  check.ok(not pcall(require, "os"), "require os")
  check.ok(not pcall(require, "/etc/passwd"), "require a path")
  -- collectgarbage answers "count" only; no finalizers.
  check.eq(type(collectgarbage("count")), "number")
  check.ok(not pcall(collectgarbage, "collect"), "collect refused")
  check.ok(not pcall(collectgarbage, "stop"), "stop refused")
  check.ok(not pcall(setmetatable, {}, { __gc = function() end }), "__gc refused")
  check.eq(getmetatable(setmetatable({}, { __index = {} })) ~= nil, true)
  -- Library tampering stays inside this actor: a fresh process still has
  -- the real string.upper.
  getmetatable("").__index.upper = function() return "pwned" end
  check.eq(("x"):upper(), "pwned")
  local args = process.listen("args")
  process.spawn("t:reply_args", "t:a", process.pid(), ("x"):lower())
  check.eq(check.recv(args)[1], "x")
  return true
end }
