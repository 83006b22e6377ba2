package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// LockRun takes the lock that Begin takes: while a transaction of the run
// is open, LockRun times out, and after Commit it succeeds.
func TestLockRunExcludesBegin(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld[seed=0]", 1e-4)
	txn := mustBegin(t, s, b)
	if _, err := s.LockRun(context.Background(), b.RunID, 50*time.Millisecond); !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("LockRun during a transaction: %v, want ErrLockTimeout", err)
	}
	writeOutputs(t, txn.Dir(), 0.75)
	if err := txn.Commit(Provenance{Executor: "local", LLCFlowVersion: "test"}); err != nil {
		t.Fatal(err)
	}
	lock, err := s.LockRun(context.Background(), b.RunID, time.Second)
	if err != nil {
		t.Fatalf("LockRun after Commit: %v", err)
	}
	if err := lock.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LockRun(context.Background(), "../x", time.Second); err == nil {
		t.Error("LockRun accepted the run id ../x")
	}
}
