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
  -- Library tables are read-only: no script can replace a function that
  -- other code in its actor relies on.
  local function refused(what, f, ...)
    local ok, err = pcall(f, ...)
    check.eq(ok, false, what .. " must fail")
    check.ok(tostring(err):find("read-only", 1, true) or tostring(err):find("protected", 1, true), what .. ": " .. tostring(err))
  end
  refused("string.upper =", function() string.upper = nil end)
  refused("new field", function() string.shout = string.upper end)
  refused("via the string metatable", function() getmetatable("").__index.upper = print end)
  refused("replace the string metatable's __index", function() getmetatable("").__index = {} end)
  refused("rawset", rawset, string, "upper", print)
  refused("setmetatable", setmetatable, string, nil)
  refused("table.insert into a library", table.insert, math, 1)
  for _, lib in ipairs({ table, math, utf8, coroutine, os, process, process.registry, process.event,
                         channel, errors, require("time"), require("security"), require("ctx") }) do
    refused("library " .. tostring(lib), function() lib.x = 1 end)
    check.eq(getmetatable(lib), "read-only", "protected metatable")
  end
  check.ok(tostring(select(2, pcall(function() string.upper = nil end))):find("field 'upper'", 1, true), "names the field")
  -- Reads, method calls and pairs work as before.
  check.eq(("x"):upper(), "X")
  check.eq(getmetatable("").__index, string, "getmetatable(''): the string library")
  check.eq(string.format("%d", 7), "7")
  local n = 0
  for k, v in pairs(string) do n = n + 1; check.eq(type(v), "function", k) end
  check.eq(n, 16, "pairs(string) lists the library")
  -- pairs hands out the read-only view, never the library behind it.
  local iter, state = pairs(string)
  check.ok(rawequal(state, string), "pairs(string)'s state is the view")
  refused("through pairs' state", function() state.upper = print end)
  refused("through the iterator's state", function() select(2, pairs(process)).send = print end)
  check.eq(iter(string, nil) ~= nil, true, "the iterator walks the library")
  check.eq(string.dump, nil, "and dump is not there")
  local pn = 0
  for _ in pairs(process) do pn = pn + 1 end
  check.ok(pn > 20, "pairs(process): " .. pn)
  -- No script sees an address: objects show as "<type>: #<n>", the n-th
  -- object this actor showed; the same object keeps its id.
  local t1, t2 = {}, {}
  local s1 = tostring(t1)
  check.ok(s1:match("^table: #%d+$"), s1)
  check.eq(tostring(t1), s1, "same object, same id")
  check.ok(tostring(t2) ~= s1, "another object, another id")
  check.ok(tostring(print):match("^function: #%d+$"), tostring(print))
  check.ok(tostring(function() end):match("^function: #%d+$"), "a Lua function")
  check.ok(tostring(coroutine.create(print)):match("^thread: #%d+$"), "a coroutine")
  check.ok(tostring(string):match("^table: #%d+$"), "a library")
  check.eq(string.format("%s|%5s", t1, 1), s1 .. "|    1", "format %s")
  check.ok(not string.format("%s %s", t2, print):find("0x", 1, true), "no address in format")
  local ok, err = pcall(string.format, "%p", t1)
  check.eq(ok, false, "%p refused")
  check.ok(tostring(err):find("would show an address", 1, true), tostring(err))
  check.eq(string.format("%%p %d", 3), "%p 3", "%% is not a conversion")
  check.eq(tostring(setmetatable({}, { __tostring = function() return "mine" end })), "mine", "__tostring")
  check.eq(tostring(setmetatable({}, { __name = "Thing" })):match("^Thing: #%d+$") ~= nil, true, "__name")
  check.eq(tostring(12), "12")
  check.eq(tostring(nil), "nil")
  -- Globals stay the script's own: replacing one is allowed.
  local real = tostring
  tostring = function() return "mine" end
  check.eq(tostring(1), "mine")
  tostring = real
  return true
end }
