if true then abort "boom" else 1
