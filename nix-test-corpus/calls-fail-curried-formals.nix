# The second lambda of a curried application is called without a required
# argument: the error names it and the argument.
let f = a: { b, c }: a + b + c; in f 1 { b = 2; }
