let z = 1 + "a"; in z
