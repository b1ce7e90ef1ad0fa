#!/usr/bin/env bash
# Records cases.json from C++ Nix (recorded with Nix 2.8.0): the .drv path
# and output paths of every derivation in cases.nix, and the store paths of
# its `paths` set, as `nix-instantiate --eval` computes them for the store
# directory /nix/store. A private store (`--store local?root=…`) keeps the
# host's store and database out of it; --eval writes nothing anyway.
set -euo pipefail
cd "$(dirname "$0")"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
NIX_STORE_DIR=/nix/store nix-instantiate --store "local?root=$root&store=/nix/store" \
  --eval --strict --json -E '
  builtins.mapAttrs (name: d:
    if d.type or null == "derivation" then {
      inherit (d) drvPath;
      outputs = builtins.listToAttrs (map (o: { name = o; value = d.${o}.outPath; }) (d.outputs or [ "out" ]));
    } else d) (import ./cases.nix)' | jq -S . >cases.json
