# Strings: concatStringsSep, interpolation, replaceStrings, match, split.
let
  n = 200000;
  words = builtins.genList (i: "word${toString i}") n;
  joined = builtins.concatStringsSep " " words;
  interpolated = builtins.foldl' (acc: w: "${w}:${toString (builtins.stringLength acc)}") "" words;
  replaced = builtins.replaceStrings [ "word" "1" ] [ "W" "one" ] joined;
  matches = builtins.filter (w: builtins.match "word[0-9]*7" w != null) words;
  parts = builtins.split " " (builtins.substring 0 200000 joined);
in
{
  joinedLength = builtins.stringLength joined;
  interpolatedLength = builtins.stringLength interpolated;
  replacedLength = builtins.stringLength replaced;
  matchCount = builtins.length matches;
  partCount = builtins.length parts;
}
