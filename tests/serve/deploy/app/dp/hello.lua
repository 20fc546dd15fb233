return { main = function() return "v1" end }
