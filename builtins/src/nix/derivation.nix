# `derivation`: a lazy wrapper around the `derivationStrict` primop. The result is the
# attribute set of the first output; every output's set holds the user's attributes, one
# attribute per output, `all`, `drvAttrs`, and its own `outPath`/`drvPath`/`outputName`.
drvAttrs@{ outputs ? [ "out" ], ... }:
let
  strict = derivationStrict drvAttrs;
  outputSet = name: {
    inherit name;
    value = common // {
      outPath = builtins.getAttr name strict;
      drvPath = strict.drvPath;
      type = "derivation";
      outputName = name;
    };
  };
  perOutput = map outputSet outputs;
  common = drvAttrs // builtins.listToAttrs perOutput // {
    all = map (o: o.value) perOutput;
    inherit drvAttrs;
  };
in
(builtins.head perOutput).value
