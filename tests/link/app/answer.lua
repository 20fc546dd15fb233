-- For the "exectheft" case: the child lk:main execs on lk:peer; its
-- result is the one lk:main must get.
return { main = function() return "real" end }
