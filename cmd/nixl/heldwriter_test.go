package main

import (
	"strings"
	"testing"

	"github.com/nixl-project/nixl/lang"
)

func TestHeldWriter(t *testing.T) {
	// Writes made before the result are held, in order, and released
	// with it when it has no errors.
	var out strings.Builder
	resolved := make(chan lang.ErrorList, 1)
	h := &heldWriter{w: &out, resolved: resolved}
	buf := []byte("ab")
	h.Write(buf)
	buf[0] = 'x' // the writer kept a copy
	h.Write([]byte("cd"))
	if out.Len() != 0 {
		t.Fatalf("written before the result: %q", out.String())
	}
	resolved <- nil
	h.Write([]byte("ef"))
	if errs := h.finish(); errs != nil || out.String() != "abcdef" {
		t.Fatalf("got %q, %v; want \"abcdef\", no errors", out.String(), errs)
	}

	// After errors nothing is written.
	out.Reset()
	resolved = make(chan lang.ErrorList, 1)
	h = &heldWriter{w: &out, resolved: resolved}
	h.Write([]byte("ab"))
	resolved <- lang.ErrorList{&lang.Error{Msg: "undefined variable 'x'"}}
	if _, err := h.Write([]byte("cd")); err == nil {
		t.Error("a write after errors succeeded")
	}
	if errs := h.finish(); len(errs) != 1 || out.Len() != 0 {
		t.Fatalf("got %q, %v; want nothing written, one error", out.String(), errs)
	}
}
