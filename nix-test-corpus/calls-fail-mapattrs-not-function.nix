# mapAttrs with something that is not a function: the error comes when a value is
# forced, from the application of the name and the value.
(builtins.mapAttrs 1 { a = 1; }).a
