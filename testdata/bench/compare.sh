#!/usr/bin/env bash
# Evaluation and parsing, nixl against C++ Nix (nix-instantiate), in the
# same run: each workload in testdata/bench/eval is evaluated strictly by
# both, alternately, REPS times; the table shows median wall time, median
# peak RSS and the nixl/Nix ratios. Outputs are compared once.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPS=${REPS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! command -v nix-instantiate >/dev/null; then
  echo "installing nix-bin for the comparison" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq nix-bin; else sudo apt-get install -y -qq nix-bin; fi
fi
CGO_ENABLED=0 go build -o "$work/nixl" ./cmd/nixl
# Both compute store paths for /nix/store (drvs.nix prints .drv paths).
export NIXL_STORE_DIR=/nix/store NIX_STORE_DIR=/nix/store
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # FILE CMD... -> "seconds kilobytes"
  # Wall time from the shell's microsecond clock (time's %e has
  # centiseconds, too coarse for runs of a tenth of a second); peak RSS
  # from time.
  local out=$1; shift
  local start=$EPOCHREALTIME
  /usr/bin/time -f "%M" -o "$work/t" "$@" > "$out" 2> "$work/err" || { echo "failed: $*" >&2; cat "$work/err" >&2; return 1; }
  local end=$EPOCHREALTIME
  echo "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }') $(cat "$work/t")"
}
printf '%-10s %9s %9s %7s %9s %9s %7s\n' workload "nixl s" "nix s" ratio "nixl MB" "nix MB" ratio
for f in testdata/bench/eval/*.nix; do
  name=$(basename "$f" .nix)
  : > "$work/a"; : > "$work/b"
  for i in $(seq "$REPS"); do
    measure "$work/out.nixl" "$work/nixl" eval --strict "$f" >> "$work/a"
    measure "$work/out.nix" nix-instantiate --eval --strict "$f" >> "$work/b"
  done
  if ! cmp -s "$work/out.nixl" "$work/out.nix"; then echo "$name: OUTPUTS DIFFER" >&2; fi
  at=$(cut -d' ' -f1 "$work/a" | median); am=$(cut -d' ' -f2 "$work/a" | median)
  bt=$(cut -d' ' -f1 "$work/b" | median); bm=$(cut -d' ' -f2 "$work/b" | median)
  awk -v n="$name" -v at="$at" -v bt="$bt" -v am="$am" -v bm="$bm" 'BEGIN {
    printf "%-10s %9.3f %9.3f %7.2f %9.0f %9.0f %7.2f\n", n, at, bt, at/bt, am/1024, bm/1024, am/bm }'
done
REPS=$REPS testdata/bench/parse.sh
