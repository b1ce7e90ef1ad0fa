# Duplicate attributes and formals are errors at parse time.
{ a, b, a }:
{
  x = 1;
  y.z = 2;
  x = 3;
  y.z = 4;
  inherit a;
  a = b;
}
