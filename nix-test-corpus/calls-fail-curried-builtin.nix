# A builtin given all its arguments in one application fails: the message and the
# builtin's name in the trace are those of a call made one argument at a time.
let at = builtins.elemAt; in at [ 1 2 ] 5
