package cache

import (
	"fmt"
	"strconv"
	"strings"
)

// CacheInfo is the contents of a cache's nix-cache-info file.
type CacheInfo struct {
	// StoreDir is the store directory the cache's paths belong to; it
	// must be the one of the store they are copied to or from.
	StoreDir string
	// WantMassQuery says clients may query many paths at once.
	WantMassQuery bool
	// Priority orders caches: lower values are asked first. Nix's default
	// is 50.
	Priority int
}

// DefaultPriority is the priority of a cache that does not give one.
const DefaultPriority = 50

// ParseCacheInfo parses nix-cache-info as Nix does: "Name: value" lines,
// unknown names and lines without a colon ignored.
func ParseCacheInfo(text string) (*CacheInfo, error) {
	ci := &CacheInfo{Priority: DefaultPriority}
	for _, line := range strings.Split(text, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.TrimSpace(name) {
		case "StoreDir":
			ci.StoreDir = value
		case "WantMassQuery":
			ci.WantMassQuery = value == "1"
		case "Priority":
			n, err := strconv.Atoi(value)
			if err != nil {
				return nil, fmt.Errorf("invalid Priority '%s' in nix-cache-info", value)
			}
			ci.Priority = n
		}
	}
	if ci.StoreDir == "" {
		return nil, fmt.Errorf("nix-cache-info has no StoreDir")
	}
	return ci, nil
}

// String renders the file.
func (ci *CacheInfo) String() string {
	mass := "0"
	if ci.WantMassQuery {
		mass = "1"
	}
	return fmt.Sprintf("StoreDir: %s\nWantMassQuery: %s\nPriority: %d\n", ci.StoreDir, mass, ci.Priority)
}
