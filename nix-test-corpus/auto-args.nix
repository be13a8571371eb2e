{ x, y, z ? "default" }:
{ sum = x + 1; inherit y z; }
