# `assert a == b` explains the first difference (Nix >= 2.23 wording).
let
  config = { port = 8080; host = "example.org"; };
in
assert config == { port = 8080; host = "example.com"; };
null
