-- The process lk:main asks host lk:evil for. The fake host never runs it.
return { main = function() return true end }
