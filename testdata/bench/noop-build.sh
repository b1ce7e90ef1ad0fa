#!/usr/bin/env bash
# A no-op `nixl build` of a 1,000-derivation graph (each node depends on
# the one before and one halfway back): the graph is built once into a
# temporary store, then the same build is timed REPS times (median wall
# time and peak RSS). Target: under 0.3 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPS=${REPS:-5}
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/nixl" ./cmd/nixl
cat > "$work/graph.nix" <<'NIX'
let
  n = 1000;
  mk = i: deps: derivation {
    name = "node-${toString i}";
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" "echo ${toString i} > $out" ];
    inherit deps;
  };
  drvs = builtins.genList (i: mk i (if i == 0 then [ ] else [ (builtins.elemAt drvs (i - 1)) (builtins.elemAt drvs (i / 2)) ])) n;
in
drvs
NIX
export NIXL_STORE_DIR="$work/store" NIXL_STATE_DIR="$work/var"
echo "building the graph once (1,000 builds)…" >&2
"$work/nixl" build --no-link "$work/graph.nix" > /dev/null 2>&1
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: > "$work/t"
for _ in $(seq "$REPS"); do
  /usr/bin/time -f "%e %M" -a -o "$work/t" "$work/nixl" build --no-link "$work/graph.nix" > /dev/null
done
printf 'no-op build of 1,000 derivations: %.2f s (median of %d), %d MB peak RSS\n' \
  "$(cut -d' ' -f1 "$work/t" | median)" "$REPS" "$(( $(cut -d' ' -f2 "$work/t" | median) / 1024 ))"
