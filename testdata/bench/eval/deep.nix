# Deep non-tail recursion, repeated (kept within C++ Nix's stack).
let
  sumTo = n: if n == 0 then 0 else n + sumTo (n - 1);
  runs = builtins.genList (i: sumTo (5000 + i)) 200;
in
builtins.foldl' (a: b: a + b) 0 runs
