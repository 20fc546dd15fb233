return { main = function() while true do end end }
