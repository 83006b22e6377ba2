package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llcflow/llcflow/graph"
)

// abortCancelled begins a transaction for b under a context that is then
// cancelled, and aborts it as the executor does after Ctrl-C.
func abortCancelled(t *testing.T, s *Store, b Begin) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	txn, err := s.Begin(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(txn.Dir(), "partial.csv"), []byte("step,loss\n"))
	cancel()
	if err := txn.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
}

// snapshotStatus returns Status through a fresh snapshot of s.
func snapshotStatus(t *testing.T, s *Store, runID, key string) (graph.RunStatus, string) {
	t.Helper()
	snap, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	status, detail, err := snap.Status(runID, key)
	if err != nil {
		t.Fatalf("Snapshot.Status: %v", err)
	}
	return status, detail
}

func TestAbortRecordsCancellation(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld[seed=0]", 1e-4)
	before := time.Now().Add(-time.Second)
	abortCancelled(t, s, b)

	detail := wantStatus(t, s, b.RunID, b.Key, graph.Missing)
	if !strings.HasPrefix(detail, "the last attempt was cancelled at ") {
		t.Errorf("Status detail = %q, want the time of the cancellation", detail)
	}
	if status, snapDetail := snapshotStatus(t, s, b.RunID, b.Key); status != graph.Missing || snapDetail != detail {
		t.Errorf("Snapshot.Status = %s (%q), want missing (%q)", status, snapDetail, detail)
	}
	c, ok, err := s.Cancellation(b.RunID)
	if err != nil || !ok {
		t.Fatalf("Cancellation = %v, %v, %v", c, ok, err)
	}
	if c.Key != b.Key || c.Address != b.Address || c.Reason != context.Canceled.Error() {
		t.Errorf("Cancellation = %+v", c)
	}
	if c.Time.Before(before) || c.Time.Before(c.StartedAt) {
		t.Errorf("Cancellation times: started %v, cancelled %v, test began %v", c.StartedAt, c.Time, before)
	}
	if got := tempEntries(t, s); len(got) != 0 {
		t.Errorf("temporary directories left: %v", got)
	}
	if _, err := os.Stat(s.RunDir(b.RunID)); !os.IsNotExist(err) {
		t.Errorf("a cancelled attempt left a run directory: %v", err)
	}
}

func TestAbortWithoutCancelRecordsNothing(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld[seed=0]", 1e-4)
	if err := mustBegin(t, s, b).Abort(); err != nil {
		t.Fatal(err)
	}
	if detail := wantStatus(t, s, b.RunID, b.Key, graph.Missing); detail != "" {
		t.Errorf("detail = %q after a plain abort, want none", detail)
	}
	if _, ok, err := s.Cancellation(b.RunID); ok || err != nil {
		t.Errorf("Cancellation = %v, %v after a plain abort, want none", ok, err)
	}
}

func TestCommitRemovesCancellation(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld[seed=0]", 1e-4)
	abortCancelled(t, s, b)
	commitNode(t, s, b, 0.5)
	wantStatus(t, s, b.RunID, b.Key, graph.Valid)
	if _, ok, err := s.Cancellation(b.RunID); ok || err != nil {
		t.Errorf("Cancellation = %v, %v after a commit, want none", ok, err)
	}
}

// TestLastAttemptWins checks that the later of a failure and a
// cancellation decides the status.
func TestLastAttemptWins(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld[seed=0]", 1e-4)
	if err := mustBegin(t, s, b).Fail("sampler", errors.New("chain 1 diverged"), Provenance{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond) // so that the records' times differ
	abortCancelled(t, s, b)
	if detail := wantStatus(t, s, b.RunID, b.Key, graph.Missing); !strings.Contains(detail, "cancelled") {
		t.Errorf("after fail then cancel: detail = %q, want the cancellation", detail)
	}

	if err := mustBegin(t, s, b).Fail("sampler", errors.New("chain 3 diverged"), Provenance{}); err != nil {
		t.Fatal(err)
	}
	detail := wantStatus(t, s, b.RunID, b.Key, graph.Failed)
	if !strings.Contains(detail, "the last attempt failed at") || !strings.Contains(detail, "chain 3 diverged") {
		t.Errorf("after cancel then fail: detail = %q, want the second failure", detail)
	}
	if _, ok, _ := s.Cancellation(b.RunID); ok {
		t.Error("the failure left the record of the earlier cancellation")
	}
}

func TestCancellationOfOtherKeyIgnored(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld[seed=0]", 1e-4)
	abortCancelled(t, s, b)
	other := strings.Repeat("0", 48)
	if detail := wantStatus(t, s, b.RunID, b.RunID+other, graph.Missing); detail != "" {
		t.Errorf("detail = %q for another key of the run id, want none", detail)
	}
}

func TestRemoveFailureRemovesCancellation(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld[seed=0]", 1e-4)
	abortCancelled(t, s, b)
	if _, err := s.RemoveFailure(b.RunID); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Cancellation(b.RunID); ok || err != nil {
		t.Errorf("Cancellation = %v, %v after RemoveFailure, want none", ok, err)
	}
}

// TestSnapshotChecksFiles checks the snapshot's lookups, which read
// relative to the open root, against damaged runs.
func TestSnapshotChecksFiles(t *testing.T) {
	cases := []struct {
		name   string
		damage func(dir string) error
		want   string
	}{
		{"truncated", func(dir string) error {
			return os.Truncate(filepath.Join(dir, "chains", "loss.csv"), 3)
		}, "chains/loss.csv has 3 bytes, but the manifest records 23"},
		{"missing", func(dir string) error { return os.Remove(filepath.Join(dir, "a.txt")) }, "a.txt is missing"},
		{"symbolic link", func(dir string) error {
			path := filepath.Join(dir, "a.txt")
			if err := os.Rename(path, path+".real"); err != nil {
				return err
			}
			return os.Symlink("a.txt.real", path)
		}, "a.txt is not a regular file"},
		{"manifest cut short", func(dir string) error {
			return os.Truncate(filepath.Join(dir, "manifest.json"), 100)
		}, "manifest.json: invalid JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			b := nodeBegin(t, "sampler.sgld[seed=0]", 1e-4)
			dir := commitNode(t, s, b, 0.5)
			if status, detail := snapshotStatus(t, s, b.RunID, b.Key); status != graph.Valid {
				t.Fatalf("before the damage: %s (%s)", status, detail)
			}
			if err := c.damage(dir); err != nil {
				t.Fatal(err)
			}
			fresh, err := Open(s.Root())
			if err != nil {
				t.Fatal(err)
			}
			status, detail := snapshotStatus(t, fresh, b.RunID, b.Key)
			if status != graph.Corrupt || !strings.Contains(detail, c.want) {
				t.Errorf("Snapshot.Status = %s (%q), want corrupt with %q", status, detail, c.want)
			}
			if _, storeDetail, _ := fresh.Status(b.RunID, b.Key); storeDetail != detail {
				t.Errorf("Store.Status detail %q differs from the snapshot's %q", storeDetail, detail)
			}
		})
	}
}
