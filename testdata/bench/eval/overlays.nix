# A nixpkgs-style package set: a fixpoint extended by many overlays.
let
  fix = f: let x = f x; in x;
  extends = overlay: f: self: let super = f self; in super // overlay self super;
  base = self: builtins.listToAttrs (builtins.genList (i: {
    name = "pkg${toString i}";
    value = { name = "pkg${toString i}"; version = i; deps = if i == 0 then [ ] else [ self."pkg${toString (i / 2)}" ]; };
  }) 50000);
  overlay = k: self: super: builtins.listToAttrs (builtins.genList (i: {
    name = "pkg${toString (i * 17 + k)}";
    value = super."pkg${toString (i * 17 + k)}" // { version = super."pkg${toString (i * 17 + k)}".version + 1; };
  }) 1000);
  overlays = builtins.genList overlay 30;
  pkgs = fix (builtins.foldl' (f: o: extends o f) base overlays);
  depth = p: if p.deps == [ ] then 0 else 1 + depth (builtins.head p.deps);
in
builtins.foldl' (acc: name: acc + pkgs.${name}.version + depth pkgs.${name}) 0 (builtins.attrNames pkgs)
