#!/usr/bin/env bash
# Regenerates the golden derivations of realise/derivation from C++ Nix
# (recorded with Nix 2.8.0); needs nix-instantiate, nix-store, nix and jq.
#
# For each store directory, cases.nix (and cases-ca.nix, which needs the
# ca-derivations experimental feature) are instantiated into a private store
# (`--store local?root=…&store=DIR`, so neither the real /nix/store nor its
# database is touched), and then:
#   <tag>/cases.json       drvPath and output paths of every case, as the
#                          evaluator reports them
#   <tag>/drv/<base name>  the .drv files of all cases and their inputs,
#                          byte for byte as Nix wrote them
#   <tag>/quirk-platform.json and <tag>/drv/…-quirk-platform.drv
#                          a derivation whose platform contains a quote and a
#                          backslash: Nix writes the platform unescaped, so
#                          the file cannot be parsed back (by Nix either),
#                          but its path still depends on those exact bytes
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nixcmd=(nix --extra-experimental-features nix-command)
ca=(--extra-experimental-features ca-derivations)

manifest() {
  echo "builtins.mapAttrs (name: d: {
    inherit (d) drvPath;
    outputs = builtins.listToAttrs (map (o: { name = o; value = d.\${o}.outPath; }) (d.outputs or [ \"out\" ]));
  }) (import ./$1)"
}
quirk='derivation { name = "quirk-platform"; system = "x\"y\\z"; builder = "/bin/sh"; }'

for entry in "nix-store=/nix/store" "tmp-store=/tmp/nixl-test-store"; do
  tag=${entry%%=*}
  dir=${entry#*=}
  store="local?root=$work/root-$tag&store=$dir"
  rm -rf "$tag"
  mkdir -p "$tag/drv"
  # Instantiate every case (this writes the .drv files)...
  mapfile -t drvs < <(
    nix-instantiate --store "$store" cases.nix 2>/dev/null
    nix-instantiate "${ca[@]}" --store "$store" cases-ca.nix 2>/dev/null
  )
  # ...then record what the evaluator reports for each case.
  {
    nix-instantiate --store "$store" --eval --strict --json -E "$(manifest cases.nix)"
    nix-instantiate "${ca[@]}" --store "$store" --eval --strict --json -E "$(manifest cases-ca.nix)"
  } 2>/dev/null | jq -S -s add >"$tag/cases.json"
  for p in $(nix-store --store "$store" -qR "${drvs[@]}" | grep '\.drv$'); do
    "${nixcmd[@]}" --store "$store" store cat "$p" >"$tag/drv/$(basename "$p")"
  done

  # Nix writes the quirk derivation, then fails to read it back.
  nix-instantiate --store "$store" -E "$quirk" >/dev/null 2>&1 || true
  nix-instantiate --store "$store" --readonly-mode --eval --strict --json \
    -E "let d = $quirk; in { inherit (d) drvPath system; outputPath = d.outPath; }" | jq -S . >"$tag/quirk-platform.json"
  # Registration failed, so the file is read from the private store's disk.
  base=$(basename "$(jq -r .drvPath "$tag/quirk-platform.json")")
  cp "$(find "$work/root-$tag" -type f -name "$base")" "$tag/drv/$base"
done
