# Deep recursion through a two-argument function exceeds max-call-depth (each
# level is one call deeper, however many arguments it takes).
let f = n: acc: if n == 0 then acc else 1 + f (n - 1) (acc + 1); in f 100000 0
