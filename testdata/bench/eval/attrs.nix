# Big attribute sets: listToAttrs, lookups, // in a fold, mapAttrs.
let
  n = 100000;
  names = builtins.genList (i: "attr${toString i}") n;
  big = builtins.listToAttrs (map (name: { inherit name; value = builtins.stringLength name; }) names);
  lookups = builtins.foldl' (acc: name: acc + big.${name}) 0 names;
  updated = builtins.foldl' (acc: i: acc // { "k${toString (builtins.bitAnd i 1023)}" = i; }) { } (builtins.genList (i: i) 20000);
  mapped = builtins.mapAttrs (name: value: value * 2) big;
  hasAll = builtins.all (name: builtins.hasAttr name mapped) names;
in
{
  inherit lookups hasAll;
  updatedSize = builtins.length (builtins.attrNames updated);
  mappedSum = builtins.foldl' (acc: v: acc + v) 0 (builtins.attrValues mapped);
}
