# nixl's `derivation`. derivationStrict does the work; this wrapper makes
# one set per output, each holding the caller's attributes, so that
# `derivation { … }` costs nothing until a path is asked for.
#
# The set for output NAME is the argument set extended with every output
# (by name), `all` (the per-output sets, in the order of `outputs`),
# drvAttrs (the argument), and then drvPath, outPath, outputName and
# type = "derivation". The first output's set is the result.
args@{ outputs ? [ "out" ], ... }:
let
  result = derivationStrict args;

  forOutput = outputName: shared // {
    type = "derivation";
    inherit outputName;
    drvPath = result.drvPath;
    outPath = result.${outputName};
  };

  byName = builtins.listToAttrs (map (outputName: {
    name = outputName;
    value = forOutput outputName;
  }) outputs);

  # args // (byName // { … }): the same set as args // byName // { … },
  # with one copy of the big argument set instead of two.
  shared = args // (byName // {
    drvAttrs = args;
    all = map (outputName: byName.${outputName}) outputs;
  });
in
byName.${builtins.head outputs}
