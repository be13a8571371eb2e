# parseDrvName, compareVersions, splitVersion: component splitting and ordering
with builtins;
let
  cmp = a: b: [ (compareVersions a b) (compareVersions b a) ];
in
[
  (parseDrvName "nix-0.12pre12876")
  (parseDrvName "a-b-c-1-2")
  (parseDrvName "foo-")
  (parseDrvName "-1")
  (parseDrvName "")
  (parseDrvName "xf86-video-i810-1.7.4")
  (parseDrvName "name-that-ends-with-dash--1.0")
  (splitVersion "")
  (splitVersion "1.2.3pre4-rc.x..y")
  (splitVersion "..1")
  (splitVersion "2.0_beta+git")
  (cmp "1.0" "1.0.0")
  (cmp "1.0pre" "1.0")
  (cmp "2.3pre3" "2.3pre12")
  (cmp "2.3a" "2.3.1")
  (cmp "2.3a" "2.3c")
  (cmp "99999999999" "1")
  (cmp "a" "b")
  (cmp "1a" "1.1")
  (cmp "" "pre")
  (cmp "" "1")
  (cmp "2.3" "2.3.pre")
  (cmp "1.2.3" "1.2.3")
  (cmp "1_2" "1.2")
  (cmp "01" "1")
  (cmp "1.0-rc1" "1.0")
]
