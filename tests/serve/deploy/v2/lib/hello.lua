return { main = function() return "v2" end }
