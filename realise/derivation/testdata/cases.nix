# Derivations recorded as golden data by record.sh. Each attribute is one
# case; they call `derivation` directly so that nothing but the primitive is
# involved. The system is fixed so that the data does not depend on the
# recording machine.
let
  system = "x86_64-linux";
  mk = attrs: derivation ({ inherit system; builder = "/bin/sh"; } // attrs);

  plain = mk { name = "plain"; args = [ "-c" "echo hello > $out" ]; };

  multiOutput = mk {
    name = "multi-output";
    outputs = [ "out" "lib" "dev" "bin" ];
    args = [ "-c" "mkdir $out $lib $dev $bin" ];
  };

  chainA = mk { name = "chain-a"; outputs = [ "out" "dev" ]; args = [ "-c" "echo a > $out; echo a > $dev" ]; };
  chainB = mk { name = "chain-b"; args = [ "-c" "cat ${chainA}/x > $out" ]; };
  chainC = mk { name = "chain-c"; args = [ "-c" "cat ${chainB} ${chainA.dev} > $out" ]; };

  fodFlatBase16 = mk {
    name = "fod-flat-sha256-base16";
    outputHashMode = "flat";
    outputHashAlgo = "sha256";
    outputHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  };
  fodRecursiveSRI = mk {
    name = "fod-recursive-sri";
    outputHashMode = "recursive";
    outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  };
  fodSha1 = mk {
    name = "fod-sha1-nix32";
    outputHashAlgo = "sha1";
    outputHash = "143xibwh31h9bvxzalr0sjvbbvpa6ffs";
  };
  fodSha1Recursive = mk {
    name = "fod-sha1-recursive";
    outputHashMode = "recursive";
    outputHashAlgo = "sha1";
    outputHash = "sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709";
  };
  fodSha512 = mk {
    name = "fod-sha512-base64";
    outputHashAlgo = "sha512";
    outputHash = "z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==";
  };
  fodMd5 = mk {
    name = "fod-md5";
    outputHashAlgo = "md5";
    outputHash = "d41d8cd98f00b204e9800998ecf8427e";
  };
  # An empty outputHash means the all-zero hash (Nix warns about it).
  fodEmptyHash = mk { name = "fod-empty-hash"; outputHashAlgo = "sha256"; outputHash = ""; };
  # Nix 2.8 ignores an outputHashAlgo it does not know when the hash names
  # its own algorithm.
  fodUnknownAlgo = mk {
    name = "fod-unknown-algo";
    outputHashAlgo = "bogus";
    outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  };

  # Two fixed-output derivations with the same output but different
  # recipes: dependants see only the output, so both have the same modulo
  # hash and merge into one input when hashing the dependant.
  fetchMirror1 = mk { name = "fetched"; args = [ "mirror1" ]; outputHashAlgo = "sha256"; outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; };
  fetchMirror2 = mk { name = "fetched"; args = [ "mirror2" ]; outputHashAlgo = "sha256"; outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; };
  usesFetched1 = mk { name = "uses-fetched"; args = [ "-c" "cp ${fetchMirror1} $out" ]; };
  usesFetched2 = mk { name = "uses-fetched"; args = [ "-c" "cp ${fetchMirror2} $out" ]; };
  usesBothFetched = mk { name = "uses-both-fetched"; args = [ "${fetchMirror1}" "${fetchMirror2}" "${plain}" ]; };

  argsEscapes = mk {
    name = "args-escapes";
    args = [ "quote\"d" "back\\slash" "new\nline" "carriage\rreturn" "tab\there" "dollar$ {brace}" "" "\\n literal" "unicode ✓ λ 日本" ];
  };
  envEscapes = mk {
    name = "env-escapes";
    multiline = ''
      line one
        indented "quoted" \backslash\
      last	tab
    '';
    quotes = "\"'`";
    unicode = "héllo wörld ✓ λ 🎉";
    crlf = "a\r\nb";
    "weird key \"with\" escapes\n" = "value";
    empty = "";
  };
  envTypes = mk {
    name = "env-types";
    flag = true;
    off = false;
    number = 42;
    negative = -7;
    nothing = null;
    list = [ "a" "b" 3 true null ];
    path = ./builder.sh;
  };
  inputSrcs = mk {
    name = "input-srcs";
    builder = ./builder.sh;
    script = builtins.toFile "script" "echo from a text file";
    data = builtins.toFile "data" "references ${builtins.toFile "inner" "x"}";
  };
  drvPathRef = mk { name = "drvpath-ref"; args = [ chainB.drvPath ]; };
  structured = mk {
    name = "structured";
    __structuredAttrs = true;
    outputs = [ "out" "doc" ];
    nested = { list = [ 1 2.5 "three" ]; flag = true; };
    text = "with \"quotes\" and\nnewline";
  };
  otherSystem = derivation { name = "other-system"; system = "i686-linux"; builder = "/bin/sh"; args = [ "other" ]; };
in
{
  inherit plain multiOutput chainA chainB chainC fodFlatBase16 fodRecursiveSRI
    fodSha1 fodSha1Recursive fodSha512 fodMd5 fodEmptyHash fodUnknownAlgo
    fetchMirror1 fetchMirror2 usesFetched1 usesFetched2 usesBothFetched
    argsEscapes envEscapes envTypes inputSrcs drvPathRef structured otherSystem;
}
