package derivation

import "github.com/nixl-project/nixl/nixhash"

// Placeholder is the string builtins.placeholder returns for an output: it
// stands for the output's path in the environment of derivations whose
// output paths are not known before building (floating content-addressed
// ones), and is substituted by the builder.
func Placeholder(outputName string) string {
	return "/" + nixhash.SumString(nixhash.SHA256, "nix-output:"+outputName).NixBase32()
}
