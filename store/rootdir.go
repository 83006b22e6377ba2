package store

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// rootDir is the store root as the base of the system calls that check a
// run: an open directory that names are relative to, or AT_FDCWD with
// absolute names. Names relative to an open directory spare the kernel the
// walk from / to the root for each of the files that a large plan checks.
type rootDir struct {
	fd   int
	root string
}

// atPath returns the rootDir of absolute names under root.
func atPath(root string) rootDir { return rootDir{fd: unix.AT_FDCWD, root: root} }

// name returns the name of a file of a run for the system calls.
func (d rootDir) name(runID, file string) string {
	if d.fd == unix.AT_FDCWD {
		return filepath.Join(d.root, runID, filepath.FromSlash(file))
	}
	return runID + "/" + file
}

// path returns the absolute path of a file of a run, for messages.
func (d rootDir) path(runID, file string) string {
	return filepath.Join(d.root, runID, filepath.FromSlash(file))
}

// readFile appends the contents of a file of a run to buf with plain
// openat, read and close system calls. os.ReadFile also stats the file and
// registers it with the runtime poller, which doubled the cost of reading
// 100,000 manifests.
//
// A read that returns less than it was asked for ends the file. A regular
// file returns less only at its end, because Go restarts system calls that
// a signal interrupts, so this saves the read that would return 0.
func (d rootDir) readFile(runID, file string, buf []byte) ([]byte, error) {
	fd, err := unix.Openat(d.fd, d.name(runID, file), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return buf, &fs.PathError{Op: "open", Path: d.path(runID, file), Err: err}
	}
	defer unix.Close(fd)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		want := cap(buf) - len(buf)
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return buf, &fs.PathError{Op: "read", Path: d.path(runID, file), Err: err}
		}
		buf = buf[:len(buf)+n]
		if n < want {
			return buf, nil
		}
	}
}

// checkSizes checks that each listed file of a run is a regular file of
// the recorded size, with one fstatat each and without following links.
func (d rootDir) checkSizes(runID string, files []ManifestFile) error {
	for _, f := range files {
		var st unix.Stat_t
		err := unix.Fstatat(d.fd, d.name(runID, f.Name), &st, unix.AT_SYMLINK_NOFOLLOW)
		if errors.Is(err, syscall.ENOENT) {
			return fmt.Errorf("%s is missing", f.Name)
		}
		if err != nil {
			return &fs.PathError{Op: "lstat", Path: d.path(runID, f.Name), Err: err}
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			return fmt.Errorf("%s is not a regular file", f.Name)
		}
		if st.Size != f.Size {
			return fmt.Errorf("%s has %d bytes, but the manifest records %d", f.Name, st.Size, f.Size)
		}
	}
	return nil
}
