-- Returns its argument at once.
return { main = function(v) return v end }
