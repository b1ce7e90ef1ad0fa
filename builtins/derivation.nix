# nixl's `derivation`: a function of the argument set, as in Nix, so that
# it prints, and builtins.functionArgs sees it, as Nix's does. The sets it
# returns are made by a builtin (derivationSets in derivation_sets.go),
# which the loader passes in as `sets`: derivationStrict does the work
# when a path is asked for, so `derivation { … }` costs little until then.
sets:
args@{ outputs ? [ "out" ], ... }:
sets args outputs
