package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// DefaultLockTimeout is the wait for another process's lock on a run id
// when Begin.LockTimeout is zero. It bounds how long a second apply waits
// for a first one that computes the same node.
const DefaultLockTimeout = 10 * time.Minute

// ErrLockTimeout is wrapped by the error of Begin when another process
// held the run's lock for the whole lock timeout.
var ErrLockTimeout = errors.New("timed out waiting for the lock")

// Polling intervals of a lock wait. flock(2) has no timeout of its own, so
// a waiter retries a non-blocking flock with exponential backoff.
const (
	lockPollMin = 5 * time.Millisecond
	lockPollMax = 200 * time.Millisecond
)

// LockHolder is the record of the process that holds a lock, kept in the
// lock file while the lock is held. A clean release empties the file, so a
// record found by the next holder belongs to a process that exited without
// releasing the lock, such as one killed by SIGKILL.
type LockHolder struct {
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	StartedAt time.Time `json:"started_at"`
}

// String describes the holder for messages: "pid 42 on host h since T".
func (h LockHolder) String() string {
	return fmt.Sprintf("pid %d on host %s since %s", h.PID, h.Host, h.StartedAt.Format(time.RFC3339))
}

// fileLock is an exclusive flock(2) lock on an open lock file.
type fileLock struct {
	f    *os.File
	path string
	// previous is the record that a holder which exited without releasing
	// the lock left in the file, or nil.
	previous *LockHolder
}

// acquireLock takes an exclusive flock on path, creating the file if
// needed. It retries until timeout has passed or ctx is done. A negative
// timeout tries once. When the lock is taken by another process, onWait
// (if not nil) is called once with its record, which is nil when the file
// holds none yet.
func acquireLock(ctx context.Context, path string, timeout time.Duration,
	onWait func(holder *LockHolder)) (*fileLock, error) {
	deadline := time.Now().Add(timeout)
	delay := lockPollMin
	for waited := false; ; waited = true {
		lock, err := tryLock(path)
		if err != nil {
			return nil, err
		}
		if lock != nil {
			return lock, nil
		}
		if !waited && onWait != nil {
			onWait(readHolder(path))
		}

		remaining := time.Until(deadline)
		if remaining <= 0 {
			return nil, lockTimeoutError(path, timeout)
		}
		timer := time.NewTimer(min(delay, remaining))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("wait for lock %s: %w", path, ctx.Err())
		case <-timer.C:
		}
		delay = min(2*delay, lockPollMax)
	}
}

// tryLock takes the lock if it is free and returns nil, nil if another
// open file holds it.
func tryLock(path string) (*fileLock, error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
		if err != nil {
			return nil, fmt.Errorf("open lock %s: %w", path, err)
		}
		err = flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, nil
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}

		// Someone may have removed or replaced the lock file between our
		// open and flock. A lock on an unlinked file excludes no other process, so
		// start over with the file now at path.
		if same, err := isFileAt(f, path); err != nil || !same {
			f.Close()
			if err != nil {
				return nil, err
			}
			continue
		}

		l := &fileLock{f: f, path: path, previous: readHolder(path)}
		l.recordHolder()
		return l, nil
	}
}

func flock(f *os.File, operation int) error {
	for {
		err := syscall.Flock(int(f.Fd()), operation)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

func isFileAt(f *os.File, path string) (bool, error) {
	opened, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("stat lock %s: %w", path, err)
	}
	current, err := os.Stat(path)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat lock %s: %w", path, err)
	}
	return os.SameFile(opened, current), nil
}

// recordHolder writes this process into the lock file. The record only
// serves messages, so a failure to write it is ignored.
func (l *fileLock) recordHolder() {
	host, _ := os.Hostname()
	data, err := json.Marshal(LockHolder{PID: os.Getpid(), Host: host, StartedAt: time.Now().UTC()})
	if err != nil {
		return
	}
	if err := l.f.Truncate(0); err != nil {
		return
	}
	l.f.WriteAt(append(data, '\n'), 0)
}

// readHolder returns the record in a lock file, or nil when the file is
// empty, missing or unreadable.
func readHolder(path string) *LockHolder {
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return nil
	}
	var h LockHolder
	if json.Unmarshal(data, &h) != nil || h.PID == 0 {
		return nil
	}
	return &h
}

// release empties the holder record, unlocks and closes the lock file.
// The file stays in place, see the package documentation.
func (l *fileLock) release() error {
	// An empty record shows the next holder that this one released the
	// lock. A failure to empty it only makes that holder report a
	// takeover that was not needed.
	_ = l.f.Truncate(0)
	err := flock(l.f, syscall.LOCK_UN)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("release lock %s: %w", l.path, err)
	}
	return nil
}

func lockTimeoutError(path string, timeout time.Duration) error {
	holder := "another process"
	if h := readHolder(path); h != nil {
		holder = h.String()
	}
	return fmt.Errorf("%w %s after %s: it is held by %s; wait for that process to finish, "+
		"or stop it if it hangs", ErrLockTimeout, path, max(timeout, 0), holder)
}

// ErrInUse is wrapped by the error of LockExclusive while another process
// uses the store through LockShared, such as a running apply.
var ErrInUse = errors.New("another process is using the store")

// StoreLock is a whole-store lock taken with LockShared or LockExclusive.
type StoreLock struct{ l *fileLock }

// Release releases the lock. It is safe to call on a nil StoreLock.
func (l *StoreLock) Release() error {
	if l == nil || l.l == nil {
		return nil
	}
	err := flock(l.l.f, syscall.LOCK_UN)
	if cerr := l.l.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (s *Store) useLockPath() string { return filepath.Join(s.locksDir(), "store.lock") }

// LockShared takes a shared lock on the whole store, which apply holds
// while it runs so that gc does not remove the runs it is about to read.
// Any number of processes can hold it at once. The lock belongs to the
// open file, so the kernel releases it when the process exits.
//
// NOTE: flock(2) on some network file systems does not exclude processes
// on other hosts, so a gc on another machine than the apply is not kept
// out there.
func (s *Store) LockShared() (*StoreLock, error) {
	return s.lockStore(syscall.LOCK_SH)
}

// LockExclusive takes the whole store for gc without waiting, and fails
// with an error wrapping ErrInUse while an apply holds LockShared.
func (s *Store) LockExclusive() (*StoreLock, error) {
	return s.lockStore(syscall.LOCK_EX)
}

func (s *Store) lockStore(how int) (*StoreLock, error) {
	if err := os.MkdirAll(s.locksDir(), dirMode); err != nil {
		return nil, fmt.Errorf("lock store %s: %w", s.root, err)
	}
	f, err := os.OpenFile(s.useLockPath(), os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("lock store %s: %w", s.root, err)
	}
	err = flock(f, how|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, fmt.Errorf("lock store %s: %w", s.root, ErrInUse)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock store %s: %w", s.root, err)
	}
	return &StoreLock{l: &fileLock{f: f, path: s.useLockPath()}}, nil
}
