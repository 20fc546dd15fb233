-- CVE-2024-31449 (Redis bit.tohex(INT32_MIN)): negating the minimum
-- integer in a C binding -> stack overflow. Lesson: try INT_MIN/INT64_MIN
-- on every integer-taking binding of our own. Attack: math.mininteger,
-- -1, 0, -2^63 as a float, -inf, NaN and huge floats on time.sleep,
-- time.after, time.timer, time.ticker, timer:reset, time.parse_duration,
-- channel.new, process.cancel's deadline (on the attacker's own process),
-- Time:add, send arguments,
-- and the integer edge cases of the Lua library (string.rep, string.sub,
-- utf8.char, table.concat/move/insert, select, math.abs, //, %).
-- Expected: each returns a value or fails as a Lua error / nil, err with
-- the exact result below; the actor and host never crash; the canary is
-- unaffected. (The overflows of math.maxinteger: cve_2024_31449_overflow.)
local time = require("time")
local M = {}

local MIN = math.mininteger

function M.attack()
  local out = {}
  local function r(name, ok, a, b)
    if not ok then out[name] = "raised: " .. tostring(a)
    elseif type(b) == "userdata" then out[name] = "nil, " .. b:kind()
    elseif type(a) == "userdata" and a.kind then out[name] = "err " .. a:kind()
    else out[name] = tostring(a) end
  end
  local t0 = time.now()
  r("sleep_min", pcall(time.sleep, MIN))
  r("sleep_neg", pcall(time.sleep, -1))
  r("sleep_negf", pcall(time.sleep, -2^63))
  r("sleep_nan", pcall(time.sleep, 0/0))
  r("sleep_ninf", pcall(time.sleep, -math.huge))
  r("sleep_str", pcall(time.sleep, "-9223372036854775808ns"))
  out.slept_ms = time.now():sub(t0):milliseconds()
  r("after_min", pcall(time.after, MIN))
  r("after_zero", pcall(time.after, 0))
  r("after_nan", pcall(time.after, 0/0))
  r("after_huge", pcall(time.after, 1e300))
  r("timer_min", pcall(time.timer, MIN))
  r("ticker_min", pcall(time.ticker, MIN))
  r("ticker_neg", pcall(time.ticker, -1))
  local tm = time.timer("1h")
  r("reset_min", pcall(tm.reset, tm, MIN))
  tm:stop()
  r("parse_min", pcall(time.parse_duration, "-9223372036854775808ns"))
  r("parse_over", pcall(time.parse_duration, "-9223372036854775809ns"))
  r("parse_num", pcall(time.parse_duration, MIN))
  r("chan_min", pcall(channel.new, MIN))
  r("chan_neg", pcall(channel.new, -1))
  r("chan_nan", pcall(channel.new, 0/0))
  r("add_min", pcall(function() return time.now():add(MIN):unix() < 0 end))
  r("send_min", pcall(process.send, process.pid(), "n", MIN, -0.0, 0/0, -math.huge))
  -- Lua library edges.
  r("rep_min", pcall(string.rep, "x", MIN))
  r("sub_min", pcall(string.sub, "abc", MIN, MIN))
  r("byte_min", pcall(function() return select("#", string.byte("abc", MIN, MIN)) end))
  r("utf8_min", pcall(utf8.char, MIN))
  r("concat_min", pcall(table.concat, {}, "", MIN, MIN + 1))
  r("move_min", pcall(table.move, {}, MIN, -1, 1))
  r("insert_min", pcall(table.insert, {}, MIN, 1))
  r("select_min", pcall(select, MIN))
  r("abs_min", pcall(math.abs, MIN))
  r("idiv_min", pcall(function() return MIN // -1 end))
  r("mod_min", pcall(function() return MIN % -1 end))
  r("fmt_min", pcall(string.format, "%d|%x|%5.1f", MIN, MIN, -1e308))
  r("tointeger", pcall(math.tointeger, -2^63))
  -- process.cancel with the minimum deadline, on the attacker's own
  -- process: a negative deadline is refused (Invalid), and the target
  -- lives on.
  local ev = process.events()
  local victim = process.spawn_monitored("esc:atk_idle", "esc:attacker")
  r("cancel_min", pcall(process.cancel, victim, MIN))
  local e = channel.select({ ev:case_receive(), time.after("300ms"):case_receive() }).value
  out.cancel_exit = type(e) == "table" and tostring(e.result.error) or "no EXIT"
  return out
end

local WANT = {
  sleep_min = "nil", sleep_neg = "nil", sleep_str = "nil",
  sleep_negf = "nil, Invalid", sleep_nan = "nil, Invalid", sleep_ninf = "nil, Invalid",
  after_min = "nil, Invalid", after_zero = "nil, Invalid", after_nan = "nil, Invalid",
  after_huge = "nil, Invalid", timer_min = "nil, Invalid", ticker_min = "nil, Invalid",
  ticker_neg = "nil, Invalid", reset_min = "nil, Invalid",
  parse_min = "-2562047h47m16.854775808s", parse_over = "nil, Invalid", parse_num = "nil, Invalid",
  chan_min = "channel{cap=0, len=0}", chan_neg = "channel{cap=0, len=0}",
  chan_nan = "raised: bad argument #1 to '?' (number has no integer representation)",
  add_min = "true", send_min = "true",
  rep_min = "", sub_min = "", byte_min = "0",
  utf8_min = "raised: bad argument #1 to '?' (value out of range)",
  concat_min = "raised: invalid value (nil) at index -9223372036854775808 in table for 'concat'",
  move_min = "raised: bad argument #3 to '?' (too many elements to move)",
  insert_min = "raised: bad argument #2 to '?' (position out of bounds)",
  select_min = "raised: bad argument #1 to '?' (index out of range)",
  abs_min = "-9223372036854775808", idiv_min = "-9223372036854775808", mod_min = "0",
  fmt_min = "-9223372036854775808|8000000000000000|-100000000000000001097906362944045541740492309677311846336810682903157585404911491537163328978494688899061249669721172515611590283743140088328307009198146046031271664502933027185697489699588559043338384466165001178426897626212945177628091195786707458122783970171784415105291802893207873272974885715430223118336.0",
  tointeger = "-9223372036854775808",
  cancel_min = "nil, Invalid", cancel_exit = "no EXIT",
}

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_cve_2024_31449", "esc:attacker", "5s"))
  local names = {}
  for k in pairs(WANT) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do J.eq(r[k], WANT[k], k) end
  -- Negative sleeps return (the attack finished within its time-out);
  -- how fast is not asserted.
  return J.finish()
end

return M
