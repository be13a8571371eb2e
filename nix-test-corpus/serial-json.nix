# toJSON / fromJSON details that CppNix 2.8 and later agree on.
let
  s = "q\" bs\\ nl\n cr\r tab\t / é ${builtins.fromJSON ''"\u0001\u001f\u007f"''}";
in
{
  escapes = builtins.toJSON s;
  roundtrip = builtins.fromJSON (builtins.toJSON s) == s;
  nested = builtins.toJSON { b = [ 1 true null "x" { } [ ] ]; a = { "key\nwith" = -3; }; };
  toString = builtins.toJSON { __toString = self: "str"; outPath = throw "unused"; };
  outPath = builtins.toJSON [ { outPath = "o"; } { outPath = { outPath = "deep"; }; } ];
  floats = builtins.toJSON [ 1.5 0.25 (-2.5) ];
  numbers = builtins.fromJSON "[0, -0, 1e2, 1.5e-3, -12, 9223372036854775807, -9223372036854775808, 18446744073709551616]";
  unicode = builtins.fromJSON ''"\u00e9\u2192\ud83d\ude00 \/ \" \\"'';
  dup = builtins.fromJSON ''{"a": 1, "b": 2, "a": 3}'';
  ws = builtins.fromJSON " \n\t [ [ ] , \"\" ] \r\n ";
  empty = builtins.fromJSON "{}";
}
