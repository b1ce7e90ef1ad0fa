#!/usr/bin/env bash
# Regenerates the golden files of realise/store from C++ Nix (recorded with
# Nix 2.8.0). Needs nix, nix-instantiate, nix-store, nix-build, jq, coreutils
# and go. Nothing is written to the real /nix/store: every store operation
# uses a private state directory, and the /nix/store values are computed
# read-only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
nixcmd=(nix --extra-experimental-features nix-command)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---------------------------------------------------------------------------
# hashes.json: how `nix hash to-base16 [--type T] INPUT` (Hash::parseAny)
# treats each input, and the other encodings of every accepted hash.
cases=()   # "TYPE|INPUT"; an empty TYPE means no --type
for algo in md5 sha1 sha256 sha512; do
  size=$(printf '' | "${algo}sum" | cut -d' ' -f1 | wc -c)
  zeros=$(head -c $(((size - 1) / 2)) /dev/zero | xxd -p -c 1000)
  ones=$(head -c $(((size - 1) / 2)) /dev/zero | tr '\0' '\377' | xxd -p -c 1000)
  for hex in "$zeros" "$ones" $(for s in "" hello nixl; do printf %s "$s" | "${algo}sum" | cut -d' ' -f1; done); do
    nix32=$("${nixcmd[@]}" hash to-base32 --type "$algo" "$hex")
    b64=$("${nixcmd[@]}" hash to-base64 --type "$algo" "$hex")
    sri=$("${nixcmd[@]}" hash to-sri --type "$algo" "$hex")
    cases+=("$algo|$hex" "|$algo:$hex" "$algo|$nix32" "|$algo:$nix32" "$algo|$b64" "$algo|$algo:$b64" "|$sri" "$algo|$sri")
  done
done
e3=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
cases+=(
  "sha256|E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
  "sha256|xyz"
  "|xyz"
  "|$e3"
  "sha1|sha256:$e3"
  "sha1|sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
  "|foo:$e3"
  "|foo-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
  "sha256|${e3%?}g"
  "sha256|0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c7e"
  "sha256|zmdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"
  "sha256|47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF!="
  "|sha256-AAAA"
  "|sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
  "|sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
  "sha256|"
)
{
  for c in "${cases[@]}"; do
    type=${c%%|*}
    input=${c#*|}
    typeflag=()
    [ -n "$type" ] && typeflag=(--type "$type")
    if base16=$("${nixcmd[@]}" hash to-base16 "${typeflag[@]}" "$input" 2>"$work/err"); then
      jq -n --arg type "$type" --arg input "$input" --arg base16 "$base16" \
        --arg nix32 "$("${nixcmd[@]}" hash to-base32 "${typeflag[@]}" "$input")" \
        --arg base64 "$("${nixcmd[@]}" hash to-base64 "${typeflag[@]}" "$input")" \
        --arg sri "$("${nixcmd[@]}" hash to-sri "${typeflag[@]}" "$input")" \
        '{type: $type, input: $input, base16: $base16, nix32: $nix32, base64: $base64, sri: $sri}'
    else
      err=$(sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^error: //' "$work/err" | head -n1)
      jq -n --arg type "$type" --arg input "$input" --arg error "$err" \
        '{type: $type, input: $input, error: $error}'
    fi
  done
} | jq -s . >hashes.json

# ---------------------------------------------------------------------------
# paths-<tag>.json: text and fixed-output paths from paths.nix, evaluated
# read-only for two store directories.
for entry in "nix-store=/nix/store" "tmp-store=/tmp/nixl-test-store"; do
  tag=${entry%%=*}
  dir=${entry#*=}
  NIX_STORE_DIR=$dir NIX_STATE_DIR=$work/state-$tag NIX_LOG_DIR=$work/log-$tag \
    nix-instantiate --readonly-mode --eval --strict --json paths.nix |
    jq --arg dir "$dir" '. + {storeDir: $dir}' >"paths-$tag.json"
done

# ---------------------------------------------------------------------------
# source-selfref.json: a source path with references and a self-reference.
# Build an output that mentions itself and another path in a private store,
# then let `nix store make-content-addressed` rewrite it into a source path,
# and record its content address, references and resulting path.
store=/tmp/nixl-test-store
export NIX_STORE_DIR=$store NIX_STATE_DIR=$work/state-build NIX_LOG_DIR=$work/log-build
cat >"$work/selfref.nix" <<'NIX'
let dep = builtins.toFile "dep" "hello"; in
derivation {
  name = "selfref";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "echo $out ${dep} > $out" ];
}
NIX
out=$(nix-build --option substituters '' --no-out-link "$work/selfref.nix" 2>/dev/null)
ca=$("${nixcmd[@]}" store make-content-addressed --option substituters '' --json "$out" 2>/dev/null |
  jq -r --arg out "$out" '.rewrites[$out]')
"${nixcmd[@]}" path-info --json "$ca" |
  jq --arg dir "$store" '.[0] | {storeDir: $dir, path, ca, references}' >source-selfref.json
unset NIX_STORE_DIR NIX_STATE_DIR NIX_LOG_DIR

# ---------------------------------------------------------------------------
# NAR golden data: the test builds its deterministic trees, dumps them with
# `nix-store --dump` and stores the results (tree.nar and nar.json).
(cd "$here/.." && go test -count=1 -run 'TestNARGolden' -update-golden .)
