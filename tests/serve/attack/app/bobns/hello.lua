return function() return "bobns hello, the app directory" end
