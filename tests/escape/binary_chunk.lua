-- Attack: run Lua bytecode. Binary chunks skip every check of the compiler
-- ("maliciously crafted binary chunks can crash the interpreter", Lua 5.4
-- manual §4.4 load; CVE-2015-4335 in Redis), so load must refuse them in
-- every form: a "\27Lua" string in default, "b" and "bt" modes, a reader
-- function, and a chunk sent as a spawn argument.
-- Expected: every attempt is refused with a Lua error; the attacker's
-- process returns normally; the canary is unaffected.
local BIN = "\27Lua\84\0\25\147\13\10\26\10\4\8\8\120\86\0\0\0\0\0\0\0\0\0\0\0\40\119\64\1"

local M = {}

function M.attack(chunk)
  local out = {}
  local f, err = load(BIN)
  out.default = f == nil and err
  f, err = load(BIN, "=x", "b")
  out.mode_b = f == nil and err
  f, err = load(BIN, "=x", "bt")
  out.mode_bt = f == nil and err
  f, err = load(chunk, "=arg")
  out.from_arg = f == nil and err
  local ok, e = pcall(load, function() return nil end)
  out.reader = not ok and e
  out.text_still_works = load("return 6 * 7")()
  return out
end

function M.main()
  local J = require("judge")
  J.begin()
  local r = J.value(J.attack("esc:atk_binary_chunk", "esc:attacker", "3s", BIN))
  J.eq(r.default, "attempt to load a binary chunk (mode is 't')", "load(binary)")
  J.eq(r.mode_b, "attempt to load a binary chunk (mode is 't')", "load(binary, 'b')")
  J.eq(r.mode_bt, "attempt to load a binary chunk (mode is 't')", "load(binary, 'bt')")
  J.eq(r.from_arg, "attempt to load a binary chunk (mode is 't')", "binary chunk from a spawn argument")
  J.has(r.reader, "reader functions and binary chunks are not allowed", "load(reader)")
  J.eq(r.text_still_works, 42, "text chunks load")
  return J.finish()
end

return M
