# Lists of different lengths: sizes and both sides are shown.
assert [ 0 2 4 ] == builtins.filter (x: x < 4) [ 0 2 4 ];
"unreachable"
