return { main = function(how)
  if how == "false" then return false end
  if how == "nilerr" then return nil, "went wrong" end
  if how == "errobj" then return nil, errors.new({ message = "typed", kind = errors.INVALID }) end
  error("exploded")
end }
