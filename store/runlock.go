package store

import (
	"context"
	"fmt"
	"os"
	"time"
)

// RunLock is the lock of one run, the one that Begin holds from Begin to
// Commit or Abort.
type RunLock struct{ l *fileLock }

// LockRun takes the lock of runID, waiting up to timeout
// (DefaultLockTimeout when 0) or until ctx is done. Code that installs a
// run made elsewhere, such as a run downloaded from a remote executor,
// holds it so that no transaction of the same run renames its directory
// at the same time.
func (s *Store) LockRun(ctx context.Context, runID string, timeout time.Duration) (*RunLock, error) {
	if err := CheckRunID(runID); err != nil {
		return nil, fmt.Errorf("lock run: %w", err)
	}
	if err := os.MkdirAll(s.locksDir(), dirMode); err != nil {
		return nil, fmt.Errorf("lock run %s: %w", runID, err)
	}
	if timeout == 0 {
		timeout = DefaultLockTimeout
	}
	lock, err := acquireLock(ctx, s.lockPath(runID), timeout, nil)
	if err != nil {
		return nil, fmt.Errorf("lock run %s: %w", runID, err)
	}
	return &RunLock{l: lock}, nil
}

// Release releases the lock. It is safe to call on a nil RunLock.
func (l *RunLock) Release() error {
	if l == nil || l.l == nil {
		return nil
	}
	return l.l.release()
}
