return { main = function() process.listen("never"):receive() end }
