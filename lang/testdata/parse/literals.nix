[
  0 42 9223372036854775807
  1.5 .5 0.25 1.0e10 2.5E-3 1. 01.5

  "plain" "esc \" \\ \n \t \r \$ ${"nested ${"deep"}"}" "dollar $$ and $x and ${"a"}$"
  ''
    indented
      more
    ''${escaped} '''quoted''' ''\n''\t
  ''
  ''one line''
  http://example.com/a?b=c&d
  ./rel/path ../up /abs/path ~/home/file a/b ./.
  ./with/${"interp"}/tail
  <nixpkgs> <nixpkgs/lib>
]
