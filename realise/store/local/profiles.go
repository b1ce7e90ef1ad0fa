package local

import "path/filepath"

// ProfilesDir is <state>/profiles, where profiles live by default: every
// symbolic link into the store below it is a garbage collector root.
func (s *Store) ProfilesDir() string { return filepath.Join(s.stateDir, profilesDirName) }
