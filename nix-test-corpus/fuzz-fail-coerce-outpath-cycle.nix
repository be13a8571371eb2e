# Found by the fuzzer: coercing a set whose outPath is itself recursed without a stack check
# and overflowed the native stack (SIGABRT); the reference reports a stack overflow.
let x = { outPath = x; }; in "${x}"
