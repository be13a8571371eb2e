# Interpolating a path that does not exist.
"${./does-not-exist}/x"
