//go:build !amd64 && !arm64

package eval

// prefetch does nothing where there is no prefetch instruction wired up.
func prefetch(addr uintptr) {}
