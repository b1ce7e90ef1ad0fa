{ a, b, c, d, e }:
let or = x: x; in
[
  (a + b * c - d / e)
  (a - b - c)
  (a ++ b ++ c)
  (a // b // c)
  (a -> b -> c)
  (a || b && c)
  (!a == b)
  (!a + b)
  (-a * b)
  (-a ? b)
  (a ? b.c.d)
  (a < b) (a <= b) (a > b) (a >= b) (a != b)
  (a.b.c or d.e)
  (a b c.d)
  (a or)
  (a.${b}.c)
  (a."quoted".c)
]
