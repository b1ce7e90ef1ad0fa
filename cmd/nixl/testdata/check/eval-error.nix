# Checked with --eval: statically fine, fails when evaluated.
let
  base = { port = 80; };
in
{
  url = "http://localhost:" + base.port;
}
