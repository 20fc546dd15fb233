return { main = function(v) return v end }
