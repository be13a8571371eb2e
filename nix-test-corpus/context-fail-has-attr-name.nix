# `?` with an attribute name that refers to a store path fails.
{ a = 1; } ? ${builtins.toFile "src" "text"}
