# Found by the fuzzer: toString of a list containing itself recursed without a stack check
# and overflowed the native stack (SIGABRT); the reference reports a stack overflow.
let x = [ x ]; in builtins.toString x
