# builtins.getAttr's name must not refer to a store path; the message names the raw context element.
let d = derivation { name = "a"; builder = "/bin/sh"; system = "x86_64-linux"; }; in
builtins.getAttr "${d}" { }
