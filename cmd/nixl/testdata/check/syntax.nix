# Several syntax errors: the parser goes on after each.
let
  a = 1 +;
  b = [ 1 2 ;
  c = { d = 1; };
in
  if a then b else
