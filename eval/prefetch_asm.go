//go:build amd64 || arm64

package eval

// prefetch hints that the cache line at addr will be read soon
// (prefetch_*.s).
func prefetch(addr uintptr)
