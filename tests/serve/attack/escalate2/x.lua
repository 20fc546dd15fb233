return function() return "x" end
