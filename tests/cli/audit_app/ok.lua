return { main = function() return "ok" end }
