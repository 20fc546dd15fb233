-- Churn: a child that returns at once.
return { main = function() return true end }
