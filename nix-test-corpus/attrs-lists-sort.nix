with builtins;
let
  rand = n: seed: genList (i: bitAnd (i * 1103515245 + seed * 12345 + 7) 1023) n;
  recs = n: seed: genList (i: { k = bitAnd (i * 2654435761 + seed) 15; i = i; }) n;
  mk = xs: map (x: { k = x; }) xs;
in {
  a = map (n: sort lessThan (rand n 3)) [ 0 1 2 3 15 16 17 31 33 64 100 257 1000 ];
  b = map (n: sort (x: y: x < y) (rand n 5)) [ 17 100 1000 ];
  c = map (n: sort (x: y: x.k < y.k) (recs n 9)) [ 5 17 40 100 333 ];
  d = sort (x: y: x > y) (genList (i: i) 100);
  e = sort (x: y: x < y) (genList (i: 100 - i) 100 ++ genList (i: i) 50);
  f = sort lessThan [ "b" "a" "c" "aa" ];
}
