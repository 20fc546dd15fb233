-- The canary tenant's private code (esc:canary_secret): nothing of the
-- attacker's may run it, by exec, spawn or upgrade, or find its source on
-- an attacker's host.
return { main = function() return "canary secret 7d1e" end }
