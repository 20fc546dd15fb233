-- Hogs for test_fairness, chosen by 'how'. The first four run until their
-- host's CPU budget ends them, yielding only when preempted: a busy loop,
-- a pcall loop, a loop of short sorts with a Lua comparator, a loop of
-- short gsubs with a Lua callback. The others spin inside a C function
-- that called back into Lua (sort, gsub, tostring, require) and can only
-- be ended there; "catch" also tries to catch that end and go on.
local function spin() while true do end end

local hogs = {}

function hogs.loop() spin() end

function hogs.pcall()
  while true do pcall(spin) end
end

function hogs.sort()
  local t = {}
  for i = 1, 200 do t[i] = (i * 7919) % 1000 end
  local up = true
  local function lt(a, b) return a < b end
  local function gt(a, b) return a > b end
  while true do
    up = not up
    table.sort(t, up and lt or gt)
  end
end

function hogs.gsub()
  local s = string.rep("abcdefgh", 40)
  local n = 0
  while true do
    s:gsub(".", function(c) n = n + 1 return c end)
  end
end

function hogs.sort_forever()
  table.sort({ 3, 1, 2 }, function() spin() end)
end

function hogs.gsub_forever()
  string.gsub("abc", ".", function() spin() end)
end

function hogs.tostring_forever()
  return tostring(setmetatable({}, { __tostring = function() spin() end }))
end

function hogs.require_forever()
  return require("spin")
end

-- Every way to catch the end and carry on: pcall around the sort and
-- inside the comparator, xpcall with a spinning message handler, a
-- spinning __close handler, coroutine.resume around it all.
function hogs.catch()
  local caught = {}
  local co = coroutine.create(function()
    local guard <close> = setmetatable({}, { __close = function() spin() end })
    local ok, e = pcall(table.sort, { 3, 1, 2 }, function()
      while true do pcall(spin) end
    end)
    caught[#caught + 1] = tostring(e)
    ok, e = xpcall(table.sort, spin, { 3, 1, 2 }, function() spin() end)
    caught[#caught + 1] = tostring(e)
    return ok
  end)
  local ok, e = coroutine.resume(co)
  caught[#caught + 1] = tostring(e)
  return "caught and went on: " .. table.concat(caught, "; ")
end

return { main = function(how) return hogs[how]() end }
