# The same thunk on both sides is still forced before it counts as equal.
let x = throw "same thunk forced"; in [ x ] == [ x ]
