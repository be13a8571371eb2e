# The @ name among the formals is reported at the function (after duplicate formals).
let f = x: args@{ args, y }: y; in f
