return { main = function(x) return x end }
