# `++` chains are right-associative; one flattened concatenation must give the
# same list, keep elements lazy and share nothing observable.
let
  big = builtins.genList (i: [ i ]) 3000;
  chain = builtins.foldl' (acc: x: acc ++ x) [ ] big;
  lazy = [ (throw "not forced") ] ++ [ ] ++ [ 2 ] ++ [ ] ++ [ 3 ];
in {
  literal = [ 1 ] ++ [ ] ++ [ 2 3 ] ++ [ ] ++ [ [ 4 ] ] ++ [ ];
  empties = [ ] ++ [ ] ++ [ ];
  one = [ ] ++ [ 5 ] ++ [ ];
  nested = ([ 1 ] ++ [ 2 ]) ++ ([ 3 ] ++ [ 4 ]);
  lazyLength = builtins.length lazy;
  lazyTail = builtins.tail lazy == [ 2 3 ];
  foldLength = builtins.length chain;
  sum = builtins.foldl' builtins.add 0 chain;
}
