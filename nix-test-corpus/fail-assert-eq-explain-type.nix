# Values of different types, nested in a list: the element index is in the trace.
assert [ 1 { k = [ true ]; } ] == [ 1 { k = "true"; } ];
0
