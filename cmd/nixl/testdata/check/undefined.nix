# Undefined variables: reported outside any `with`, not inside one.
{ pkgs }:
let
  version = "1.0";
in
{
  name = "hello-${verison}";
  src = fetchurl { url = "https://example.org/${version}.tar.gz"; };
  deps = with pkgs; [ zlib openssl ];
  meta = lib.licenses.mit;
}
