# `==`, `!=` and the comparisons do not associate: a second one at the same level is a
# syntax error (the fast parser gives the file to rnix, whose message is the reference's).
1 < 2 < 3
