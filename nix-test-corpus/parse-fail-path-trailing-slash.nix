# A path cannot end in a slash; the reference reports it after the slash.
let p = a/b/; in p
