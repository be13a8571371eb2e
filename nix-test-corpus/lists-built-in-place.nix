# Lists of a known length written straight into the list block (map, genList, tail,
# concatLists, concatMap): items, order, laziness of the elements, empty parts, and
# foldl'/sort calling their function with two arguments at once.
let
  boom = builtins.genList (i: if i == 2 then throw "not forced" else i * i) 4;
  big = builtins.genList (i: i) 100000;
in
{
  genList = builtins.genList (i: i * 3) 5;
  genListEmpty = builtins.genList (i: i) 0;
  genListLazy = [ (builtins.length boom) (builtins.elemAt boom 3) (builtins.head boom) ];
  genListBig = [ (builtins.length big) (builtins.elemAt big 99999) (builtins.foldl' (a: b: a + b) 0 big) ];
  map = map (x: x + 1) [ 1 2 3 ];
  mapLazy = builtins.length (map (x: throw "not forced") [ 1 2 ]);
  mapEmpty = map (x: x) [ ];
  tail = builtins.tail [ 1 2 3 ];
  tailOne = builtins.tail [ 1 ];
  tailLazy = builtins.length (builtins.tail [ 1 (throw "not forced") ]);
  concat = builtins.concatLists [ [ 1 ] [ ] [ 2 3 ] [ ] [ 4 ] ];
  concatOne = builtins.concatLists [ [ ] [ 5 6 ] [ ] ];
  concatNone = builtins.concatLists [ [ ] [ ] ];
  concatMap = builtins.concatMap (x: [ x (x * 10) ]) [ 1 2 3 ];
  append = [ 1 ] ++ [ ] ++ [ 2 3 ];
  foldlCurried = builtins.foldl' (acc: x: acc ++ [ x ]) [ ] [ 1 2 3 ];
  foldlBuiltin = builtins.foldl' builtins.add 0 [ 1 2 3 ];
  foldlFormals = builtins.foldl' ({ n }: x: { n = n + x; }) { n = 0; } [ 1 2 ];
  sort = builtins.sort (a: b: a > b) [ 3 1 2 5 4 ];
}
