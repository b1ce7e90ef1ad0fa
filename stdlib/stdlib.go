package stdlib

//go:generate go test -run DocsReference -update

import (
	"embed"
	"io/fs"
)

// files are the library's sources; tests/ stays out of the binary.
//
//go:embed default.nixl lib/*.nixl build/*.nixl image/*.nixl
var files embed.FS

// FS returns the library's files, rooted at the directory that holds
// default.nixl. builtins.CorePkgs serves them under nixl/ in the
// evaluator's internal files, which is where <nixl> finds them.
func FS() fs.FS { return files }

// Root is the file `import <nixl>` evaluates, relative to FS.
const Root = "default.nixl"
