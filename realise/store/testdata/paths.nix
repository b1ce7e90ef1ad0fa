# Store paths as computed by Nix for the store directory in NIX_STORE_DIR.
# Evaluated read-only by record.sh; nothing is written to the store.
let
  inherit (builtins) toFile;
  x = toFile "x" "a";
  y = toFile "y" "ref:${x}";
  fixed = name: mode: algo: hash: {
    inherit name mode algo hash;
    path = (derivation ({
      inherit name;
      system = "x86_64-linux";
      builder = "/bin/sh";
      outputHash = hash;
      outputHashMode = mode;
    } // (if algo == "" then { } else { outputHashAlgo = algo; }))).outPath;
  };
  sha256Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
in
{
  text = [
    { name = "foo"; contents = "bar"; references = [ ]; path = toFile "foo" "bar"; }
    { name = "x"; contents = "a"; references = [ ]; path = x; }
    { name = "empty"; contents = ""; references = [ ]; path = toFile "empty" ""; }
    { name = "A+b=c?d_e.f-9"; contents = "odd name"; references = [ ]; path = toFile "A+b=c?d_e.f-9" "odd name"; }
    { name = "y"; contents = "ref:${x}"; references = [ x ]; path = y; }
    # References given out of order: the path must not depend on the order.
    { name = "z"; contents = "${y} ${x}"; references = [ y x ]; path = toFile "z" "${y} ${x}"; }
  ];
  fixed = [
    (fixed "flat-sha256-base16" "flat" "sha256" sha256Hex)
    (fixed "flat-sha256-sri" "flat" "" "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
    (fixed "recursive-sha256-nix32" "recursive" "sha256" "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73")
    (fixed "recursive-sha256-base64" "recursive" "sha256" "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
    (fixed "flat-sha1" "flat" "sha1" "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    (fixed "recursive-sha1" "recursive" "sha1" "sha1:143xibwh31h9bvxzalr0sjvbbvpa6ffs")
    (fixed "flat-md5" "flat" "md5" "d41d8cd98f00b204e9800998ecf8427e")
    (fixed "recursive-md5" "recursive" "" "md5-1B2M2Y8AsgTpgAmY7PhCfg==")
    (fixed "flat-sha512" "flat" "sha512" "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==")
    (fixed "recursive-sha512" "recursive" "sha512" "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")
  ];
}
