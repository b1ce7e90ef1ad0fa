package builtins_test

import (
	"testing"

	"github.com/nixl-project/nixl/eval/evaltest"
)

// TestBuiltins runs the per-builtin tests in testdata: NAME.nixl files of
// cases and NAME.errors.nixl files of expected failures (see evaltest).
func TestBuiltins(t *testing.T) {
	evaltest.RunDir(t, "testdata", evaltest.Options{})
}
