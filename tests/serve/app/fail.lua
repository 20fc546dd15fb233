-- Fails: with an error object of kind NotFound, or a plain error.
return { main = function(how)
  if how == "plain" then error("plain failure") end
  error(errors.new({ kind = errors.NOT_FOUND, message = "no such thing" }))
end }
