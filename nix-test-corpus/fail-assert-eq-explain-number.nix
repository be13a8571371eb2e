# An integer and a float compare by value; the message names both types.
let half = 5 / 2.0; in
assert 2 == half;
0
