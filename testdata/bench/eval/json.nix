# toJSON and fromJSON round trips of a nested structure.
let
  item = i: { id = i; name = "item-${toString i}"; tags = [ "a" "b" (toString i) ]; nested = { x = i * 2; y = [ 1 2 3 ]; ok = i / 2 * 2 == i; }; };
  data = builtins.genList item 60000;
  once = builtins.fromJSON (builtins.toJSON data);
  twice = builtins.fromJSON (builtins.toJSON once);
in
{
  equal = once == twice;
  length = builtins.length twice;
  size = builtins.stringLength (builtins.toJSON twice);
}
