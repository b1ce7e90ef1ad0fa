#!/usr/bin/env bash
# Parse throughput, nixl against C++ Nix, in the same run.
# Generates ~20 MB of varied Nix source (lang's genVaried), then times
# `nixl parse FILE` and `nix-instantiate --parse FILE` alternately
# (REPS runs each, median), both printing the parsed form to /dev/null.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPS=${REPS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v nix-instantiate >/dev/null || { echo "installing nix-bin for the comparison"; sudo apt-get install -y -qq nix-bin || apt-get install -y -qq nix-bin; }
go test ./lang -run TestWriteBenchFile -write-bench-file="$work/bench.nix" >/dev/null
CGO_ENABLED=0 go build -o "$work/nixl" ./cmd/nixl
size=$(stat -c %s "$work/bench.nix")
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run() { /usr/bin/time -f "%e %M" "$@" > /dev/null 2>> "$work/time" ; tail -1 "$work/time"; }
: > "$work/nixl.t"; : > "$work/nix.t"
for i in $(seq "$REPS"); do
  run "$work/nixl" parse "$work/bench.nix" >> "$work/nixl.t"
  run nix-instantiate --parse "$work/bench.nix" >> "$work/nix.t"
done
nt=$(cut -d' ' -f1 "$work/nixl.t" | median); nm=$(cut -d' ' -f2 "$work/nixl.t" | median)
xt=$(cut -d' ' -f1 "$work/nix.t" | median); xm=$(cut -d' ' -f2 "$work/nix.t" | median)
awk -v s="$size" -v nt="$nt" -v xt="$xt" -v nm="$nm" -v xm="$xm" 'BEGIN {
  printf "parse %.1f MB: nixl %.2f s (%.1f MB/s, %d MB RSS)  nix-instantiate %.2f s (%.1f MB/s, %d MB RSS)  speed ratio nixl/nix %.2fx\n",
    s/1e6, nt, s/1e6/nt, nm/1024, xt, s/1e6/xt, xm/1024, xt/nt }'
