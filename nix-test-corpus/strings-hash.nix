# hashString / hashFile in base16; context of the input is ignored
let
  s = builtins.appendContext "abc" { "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-foo" = { path = true; }; };
in
map (a: [
  (builtins.hashString a "")
  (builtins.hashString a "abc")
  (builtins.hashString a s)
  (builtins.hashString a "héllo\n")
  (builtins.hashFile a ./strings-hash-input.txt)
]) [ "md5" "sha1" "sha256" "sha512" ]
