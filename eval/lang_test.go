package eval_test

import (
	"testing"

	"github.com/nixl-project/nixl/eval/evaltest"
)

// TestLanguage runs the language tests in testdata, written in Nix.
func TestLanguage(t *testing.T) {
	evaltest.RunDir(t, "testdata", evaltest.Options{})
}
