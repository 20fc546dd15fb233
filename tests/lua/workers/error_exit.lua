return { main = function(msg) error(msg or "boom", 0) end }
