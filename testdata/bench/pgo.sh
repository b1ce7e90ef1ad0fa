#!/usr/bin/env bash
# Regenerates cmd/nixl/default.pgo, the CPU profile `go build` uses for
# profile-guided optimisation of the nixl binary (Go's -pgo=auto): each
# workload of testdata/bench/eval evaluated three times, and the ~20 MB
# file of parse.sh parsed once, profiled with NIXL_CPUPROFILE and merged.
# The profile is built from a binary built without it, so that it does
# not feed on itself. Rerun it when the evaluator's hot paths change.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -pgo=off -o "$work/nixl" ./cmd/nixl
go test ./lang -run TestWriteBenchFile -write-bench-file="$work/bench.nix" >/dev/null
export NIXL_STORE_DIR=/nix/store
for f in testdata/bench/eval/*.nix; do
  name=$(basename "$f" .nix)
  for i in 1 2 3; do
    NIXL_CPUPROFILE="$work/$name.$i.prof" "$work/nixl" eval --strict "$f" >/dev/null
  done
done
NIXL_CPUPROFILE="$work/parse.prof" "$work/nixl" parse "$work/bench.nix" >/dev/null
go tool pprof -proto "$work"/*.prof > cmd/nixl/default.pgo
echo "wrote cmd/nixl/default.pgo ($(stat -c %s cmd/nixl/default.pgo) bytes)"
