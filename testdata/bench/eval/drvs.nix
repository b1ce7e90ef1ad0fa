# Ten thousand interdependent derivations: each depends on the one before
# and on one halfway back, so computing a drvPath hashes (modulo) a deep
# graph. The result hashes every drvPath and outPath (store dir
# /nix/store on both sides).
let
  n = 10000;
  mk =
    i: deps:
    derivation {
      name = "pkg-${toString i}";
      system = "x86_64-linux";
      builder = "/bin/sh";
      args = [
        "-c"
        "echo ${toString i} > $out"
      ];
      version = "1.${toString i}";
      inherit deps;
    };
  drvs = builtins.genList (
    i:
    mk i (
      if i == 0 then
        [ ]
      else
        [
          (builtins.elemAt drvs (i - 1))
          (builtins.elemAt drvs (i / 2))
        ]
    )
  ) n;
in
builtins.hashString "sha256" (builtins.concatStringsSep "," (map (d: d.drvPath + d.outPath) drvs))
