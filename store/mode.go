package store

import (
	"os"
	"syscall"
)

// The store creates its directories with dirMode and its files with
// fileMode less the umask, as a shell does. Under umask 0022 that is 0755
// and 0644; under 0002, which a group that shares a store sets, the
// group can also write, so every member can take the locks, append to
// the index and commit runs.
const (
	dirMode  os.FileMode = 0o777
	fileMode os.FileMode = 0o666
)

// umask is the file mode creation mask of the process, read once when
// the package is initialized, before any goroutine of the store runs.
var umask = func() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}()
