# Values in error messages are printed as the reference's error printer does: at most
# ten list items (and ten attributes) in all, the rest elided (the count runs over the whole value).
let v = [ (builtins.genList (x: x) 9) [ 1 2 3 ] ]; in "" + builtins.deepSeq v v
