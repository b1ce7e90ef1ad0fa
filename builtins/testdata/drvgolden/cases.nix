# Derivations whose .drv paths and output paths are recorded from C++ Nix
# (see record.sh) in cases.json; TestDerivationGolden checks that nixl
# computes the same. Each case is a derivation, or a set of named values
# (store paths) for the cases that are not derivations.
let
  system = "x86_64-linux";
  mk = attrs: derivation ({ inherit system; builder = "/bin/sh"; } // attrs);

  hello = mk { name = "hello"; args = [ "-c" "echo hello > $out" ]; };
  split = mk { name = "split"; outputs = [ "out" "dev" "doc" ]; args = [ "-c" "touch $out $dev $doc" ]; };
  fixed = mk {
    name = "fixed-sha256";
    outputHashAlgo = "sha256";
    outputHash = "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73";
  };
  toFileWithRef = builtins.toFile "refers" "see ${builtins.toFile "plain" "x"}";
in
{
  inherit hello split;

  envTypes = mk {
    name = "env-types";
    yes = true;
    no = false;
    nothing = null;
    number = 42;
    negative = -7;
    words = [ "a" "b" [ "c" [ ] "d" ] ];
    nested = [ [ ] "x" ];
    text = "multi\nline \"quoted\" \\ and\ttab";
    unicode = "λ ✓";
  };

  # Attributes named like outputs: the output's variable replaces them.
  outputNamedAttrs = mk {
    name = "output-named-attrs";
    outputs = [ "out" "dev" ];
    out = "given";
    dev = "given too";
    zz = "after the outputs";
  };

  chain = mk {
    name = "chain";
    args = [ "-c" "cat ${hello}/x ${split.dev}/y > $out" ];
    other = split.doc;
  };

  fixedFlat = fixed;
  fixedRecursiveSRI = mk {
    name = "fixed-recursive";
    outputHashMode = "recursive";
    outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  };
  fixedSha1 = mk {
    name = "fixed-sha1";
    outputHashAlgo = "sha1";
    outputHash = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
  };
  fixedSha512 = mk {
    name = "fixed-sha512";
    outputHash = "sha512:z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==";
  };
  fixedRecursiveSha1 = mk {
    name = "fixed-recursive-sha1";
    outputHashMode = "recursive";
    outputHashAlgo = "sha1";
    outputHash = "143xibwh31h9bvxzalr0sjvbbvpa6ffs";
  };
  usesFixed = mk { name = "uses-fixed"; src = fixed; };

  structured = mk {
    name = "structured";
    __structuredAttrs = true;
    outputs = [ "out" "lib" ];
    count = 3;
    negative = -12;
    flags = [ true false null ];
    nested = { b = "two"; a = [ 1 "one" { } ]; "key with space" = "v"; };
    escapes = "tab\there \"q\" back\\slash\nnewline \u0001";
    dep = hello;
    src = ./src/builder.sh;
  };

  ignoreNulls = mk {
    name = "ignore-nulls";
    __ignoreNulls = true;
    dropped = null;
    kept = "yes";
  };

  passAsFile = mk {
    name = "pass-as-file";
    passAsFile = [ "big" "other" ];
    big = "a lot of text";
    other = "more";
  };

  sources = mk {
    name = "sources";
    builder = ./src/builder.sh;
    args = [ ./src/tree "${./src/tree/a.txt}" ];
    tree = builtins.path { path = ./src/tree; name = "the-tree"; };
    filtered = builtins.filterSource (p: t: !(builtins.match ".*\\.log" p != null)) ./src/tree;
    flat = builtins.path { path = ./src/tree/a.txt; recursive = false; };
    script = toFileWithRef;
  };

  placeholders = mk {
    name = "placeholders";
    outputs = [ "out" "bin" ];
    installFlags = [ "--prefix=${placeholder "out"}" "--bindir=${placeholder "bin"}" ];
  };

  # Not derivations: store paths of sources and texts.
  paths = {
    builderSh = "${./src/builder.sh}";
    tree = "${./src/tree}";
    namedTree = builtins.path { path = ./src/tree; name = "renamed"; };
    filtered = builtins.filterSource (p: t: t == "directory" || builtins.baseNameOf p == "a.txt") ./src/tree;
    flat = builtins.path { path = ./src/tree/sub/b.txt; recursive = false; name = "flat-b"; };
    text = builtins.toFile "greeting" "hello\n";
    textWithRefs = toFileWithRef;
  };
}
