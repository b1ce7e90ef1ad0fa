let
  x = 1;
  inherit (builtins) map filter;
  s = {
    a.b = 1;
    a.c = 2;
    inherit x;
    "q q" = 3;
    ${"dyn"} = 4;
    rec1 = rec { p = 1; q = p; };
  };
  f = { a, b ? a, ... }@args: a;
  g = args@{ a }: a;
  h = { }: 1;
  i = { ... }: 2;
  legacy = let { body = 1; };
in
with s;
assert x == 1;
if x > 0 then f else g
