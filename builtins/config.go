package builtins

import (
	"github.com/nixl-project/nixl/eval"
)

// Config is what the builtins need to know about their surroundings.
type Config struct {
	// System is builtins.currentSystem, e.g. x86_64-linux.
	System string
	// CurrentTime is builtins.currentTime (seconds since the epoch).
	CurrentTime int64
	// NixVersion is builtins.nixVersion.
	NixVersion string
	// StoreDir is builtins.storeDir.
	StoreDir string
	// SearchPath is builtins.nixPath (and what <…> looks in).
	SearchPath []eval.SearchPathEntry
}

// LangVersion is builtins.langVersion, the language revision nixl speaks.
const LangVersion = 6

// NixVersion is the Nix version nixl answers to builtins.nixVersion.
const NixVersion = "2.36.0"
