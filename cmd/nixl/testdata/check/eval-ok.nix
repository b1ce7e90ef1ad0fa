# Checked with --eval: evaluates without error.
let
  x = 21;
in
{ answer = x * 2; list = [ x "y" ]; }
