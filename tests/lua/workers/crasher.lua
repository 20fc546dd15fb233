-- Crashes its whole host: Debian's Lua 5.4.4 overflows the C stack when
-- closing a chain of coroutines whose __close handlers close the previous
-- one (upstream testes/cstack.lua "nesting of coroutine.close"; fixed in
-- Lua 5.4.5 by 1e64c139). ward contains it: only this host dies.
return { main = function(n)
  local coro = false
  for _ = 1, n or 20000 do
    local previous = coro
    coro = coroutine.create(function()
      local cc <close> = setmetatable({}, { __close = function()
        if previous then coroutine.close(previous) end
      end })
      coroutine.yield()
    end)
    coroutine.resume(coro)
  end
  coroutine.close(coro)
  return "survived"
end }
