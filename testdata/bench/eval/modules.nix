# A module-system-like workload: option values from many modules merged
# per option, with priorities and list concatenation.
let
  nModules = 1000;
  nOptions = 400;
  module = m: builtins.listToAttrs (builtins.genList (o: {
    name = "opt${toString o}";
    value = if builtins.bitAnd (m + o) 3 == 0 then { priority = m; value = [ "m${toString m}" ]; } else { priority = 1000; value = [ ]; };
  }) nOptions);
  modules = builtins.genList module nModules;
  merged = builtins.zipAttrsWith (name: defs:
    let
      best = builtins.foldl' (acc: d: if d.priority < acc then d.priority else acc) 1000 defs;
      chosen = builtins.filter (d: d.priority == best) defs;
    in
    { priority = best; value = builtins.concatLists (map (d: d.value) chosen); count = builtins.length defs; }) modules;
in
builtins.foldl' (acc: name: acc + merged.${name}.count + builtins.length merged.${name}.value) 0 (builtins.attrNames merged)
