# Nothing to report.
{ lib, ... }:
let
  inherit (lib) mapAttrs;
  double = x: x * 2;
in
{
  values = mapAttrs (_: double) { a = 1; b = 2; };
  _private = with lib; id;
}
