# Bindings that hide builtins.
let
  map = f: xs: [ ];
  inherit (builtins) filter; # the builtin itself: fine
  toString = x: "${x}";
in
rec {
  import = map;
  result = toString (filter (x: x) [ ]);
  derivation = { true }: true;
}
