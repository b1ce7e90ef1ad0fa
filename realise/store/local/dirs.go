package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nixl-project/nixl/realise/store"
)

// Names of files and directories in the store and state directories; see the
// package documentation for the layout.
const (
	markerName = ".nixl-store" // in the store dir: the state dir owning it
	tmpDirName = ".nixl-tmp"   // in the store dir: trees being added

	dbDirName        = "db"
	dbFileName       = "db.sqlite"
	gcLockName       = "gc.lock"
	locksDirName     = "locks"
	tempRootsDirName = "temproots"
	gcRootsDirName   = "gcroots"
	autoRootsDirName = "auto"
	profilesDirName  = "profiles"
)

// DefaultDirs returns the store and state directories to use when none is
// given: $NIXL_STORE_DIR and $NIXL_STATE_DIR if set, otherwise "store" and
// "var" in $XDG_DATA_HOME/nixl (by default ~/.local/share/nixl). This
// per-user store needs neither root nor a daemon.
func DefaultDirs() (storeDir, stateDir string, err error) {
	storeDir = os.Getenv("NIXL_STORE_DIR")
	stateDir = os.Getenv("NIXL_STATE_DIR")
	if storeDir != "" && stateDir != "" {
		return storeDir, stateDir, nil
	}
	base, err := dataHome()
	if err != nil {
		return "", "", err
	}
	if storeDir == "" {
		storeDir = filepath.Join(base, "nixl", "store")
	}
	if stateDir == "" {
		stateDir = filepath.Join(base, "nixl", "var")
	}
	return storeDir, stateDir, nil
}

// dataHome is $XDG_DATA_HOME, or ~/.local/share when it is unset or not
// absolute (as the XDG base directory specification requires).
func dataHome() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the default store location: %w; set NIXL_STORE_DIR and NIXL_STATE_DIR", err)
	}
	return filepath.Join(home, ".local", "share"), nil
}

// ForeignStoreError reports a store or state directory that belongs to
// something else, typically a real Nix installation, and that nixl
// therefore refuses to write into.
type ForeignStoreError struct {
	Dir    string
	Reason string
}

func (e *ForeignStoreError) Error() string {
	return fmt.Sprintf("refusing to use '%s': %s; choose another location with --store-dir and --state-dir (or NIXL_STORE_DIR and NIXL_STATE_DIR)", e.Dir, e.Reason)
}

// checkDirs validates the two directories and refuses those that belong to
// a Nix installation or to another nixl state directory. It only reads.
func checkDirs(storeDir, stateDir string) error {
	if err := store.Dir(storeDir).Validate(); err != nil {
		return err
	}
	if !filepath.IsAbs(stateDir) || filepath.Clean(stateDir) != stateDir {
		return fmt.Errorf("state directory '%s' must be an absolute, clean path", stateDir)
	}
	if storeDir == stateDir || strings.HasPrefix(stateDir, storeDir+"/") || strings.HasPrefix(storeDir, stateDir+"/") {
		return fmt.Errorf("the store directory '%s' and the state directory '%s' must not contain each other", storeDir, stateDir)
	}
	// Nix keeps its database in <prefix>/var/nix/db next to <prefix>/store.
	if nixDB := filepath.Join(filepath.Dir(storeDir), "var", "nix", "db"); exists(nixDB) {
		return &ForeignStoreError{Dir: storeDir, Reason: fmt.Sprintf("it belongs to a Nix installation (found '%s')", nixDB)}
	}
	for _, nixFile := range []string{"schema", "big-lock"} {
		if f := filepath.Join(stateDir, "db", nixFile); exists(f) {
			return &ForeignStoreError{Dir: stateDir, Reason: fmt.Sprintf("it is the state directory of a Nix installation (found '%s')", f)}
		}
	}
	if exists(filepath.Join(storeDir, ".links")) {
		return &ForeignStoreError{Dir: storeDir, Reason: "it looks like a Nix store (it has a .links directory)"}
	}
	return checkMarker(storeDir, stateDir, true)
}

// checkMarker checks that the store directory is ours or empty. A marker
// that appears while the directory is listed was written by a process
// creating the store concurrently, and is read again once.
func checkMarker(storeDir, stateDir string, retry bool) error {
	marker, err := os.ReadFile(filepath.Join(storeDir, markerName))
	switch {
	case err == nil:
		if owner := strings.TrimSuffix(string(marker), "\n"); owner != stateDir {
			return &ForeignStoreError{Dir: storeDir, Reason: fmt.Sprintf("it is the store of the state directory '%s', not '%s'", owner, stateDir)}
		}
	case errors.Is(err, fs.ErrNotExist):
		entries, err := os.ReadDir(storeDir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		for _, e := range entries {
			if e.Name() == markerName && retry {
				return checkMarker(storeDir, stateDir, false)
			}
		}
		for _, e := range entries {
			// Another process may be creating this store right now.
			if e.Name() == tmpDirName || strings.HasPrefix(e.Name(), ".tmp-"+markerName) {
				continue
			}
			return &ForeignStoreError{Dir: storeDir, Reason: "it is not empty and is not a nixl store"}
		}
	default:
		return err
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// writeFileAtomic writes a small file through a temporary name and a rename,
// so readers never see it half written.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes the entries of a directory (renames, creations) durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
