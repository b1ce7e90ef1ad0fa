# Unused let bindings and formals; names starting with _ are exempt.
{ lib, stdenv, fetchurl, _unused, ... }:
let
  used = 1;
  unused = 2;
  _ignored = 3;
  loop = n: loop n; # used only by itself
  inherit (lib) strings;
in
stdenv.mkDerivation {
  value = used;
}
