# Content-addressed derivations with floating outputs, which Nix 2.8 only
# instantiates with `--extra-experimental-features ca-derivations`.
# Dependants of a floating derivation get deferred outputs: their paths are
# only known after building, so the .drv records empty paths.
let
  mk = attrs: derivation ({ system = "x86_64-linux"; builder = "/bin/sh"; } // attrs);
  floating = mk {
    name = "floating";
    __contentAddressed = true;
    outputHashMode = "recursive";
    outputHashAlgo = "sha256";
    outputs = [ "out" "dev" ];
  };
  deferred = mk { name = "deferred"; args = [ "${floating}" ]; };
  deferredChain = mk { name = "deferred-chain"; args = [ "${deferred}" ]; };
in
{ inherit floating deferred deferredChain; }
