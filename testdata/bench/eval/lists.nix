# Lists: genList, sort, filter, concatLists, elem.
let
  n = 500000;
  xs = builtins.genList (i: (i * 7919) - (i / 13) * 13 * 7919 + builtins.bitAnd i 255) n;
  sorted = builtins.sort builtins.lessThan xs;
  evens = builtins.filter (x: builtins.bitAnd x 1 == 0) sorted;
  chunks = builtins.genList (i: builtins.genList (j: i + j) 50) 4000;
  flat = builtins.concatLists chunks;
in
{
  first = builtins.head sorted;
  last = builtins.elemAt sorted (n - 1);
  evenCount = builtins.length evens;
  flatLength = builtins.length flat;
  flatSum = builtins.foldl' (a: b: a + b) 0 flat;
  found = builtins.elem 123456 flat;
}
