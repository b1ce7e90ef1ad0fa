package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// WriteError is a failure to write into the store (or state) directory
// because of the file system: no space left, a quota, a file size limit,
// a read-only file system, missing permissions. Its message names the
// directory, not the temporary file that happened to be written, so that
// a full disk reads "cannot write to the store '/…/store': no space left
// on device".
type WriteError struct {
	// What is "store" or "state directory".
	What string
	Dir  string
	// Err is the system error.
	Err error
}

func (e *WriteError) Error() string {
	return fmt.Sprintf("cannot write to the %s '%s': %v", e.What, e.Dir, e.Err)
}

func (e *WriteError) Unwrap() error { return e.Err }

// writeErrnos are the errors that say the file system refuses writes.
var writeErrnos = []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG, syscall.EROFS, syscall.EACCES, syscall.EPERM}

// WriteError turns an error of writing a file in the store or state
// directory into a *WriteError; other errors are returned as they are.
func (s *Store) WriteError(err error) error {
	return asWriteError(err, string(s.dir), s.stateDir)
}

func asWriteError(err error, storeDir, stateDir string) error {
	if err == nil {
		return nil
	}
	var we *WriteError
	if errors.As(err, &we) {
		return err
	}
	var path string
	var sysErr error
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		path, sysErr = pe.Path, pe.Err
	case errors.As(err, &le):
		path, sysErr = le.New, le.Err
	default:
		return err
	}
	var errno syscall.Errno
	if !errors.As(sysErr, &errno) {
		return err
	}
	known := false
	for _, e := range writeErrnos {
		known = known || errno == e
	}
	if !known {
		return err
	}
	inside := func(dir string) bool {
		return dir != "" && (path == dir || strings.HasPrefix(path, dir+"/"))
	}
	switch {
	case inside(storeDir):
		return &WriteError{What: "store", Dir: storeDir, Err: errno}
	case inside(stateDir):
		return &WriteError{What: "state directory", Dir: stateDir, Err: errno}
	}
	return err
}
