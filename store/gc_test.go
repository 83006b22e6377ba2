package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/llcflow/llcflow/graph"
)

func TestRemoveFreesRunAndIndex(t *testing.T) {
	s := newStore(t)
	keep := nodeBegin(t, "sampler.keep", 1e-4)
	drop := nodeBegin(t, "sampler.drop", 2e-4)
	commitNode(t, s, keep, 0.5)
	dir := commitNode(t, s, drop, 0.5)
	size, err := Size(dir)
	if err != nil {
		t.Fatal(err)
	}

	freed, err := s.Remove(drop.RunID)
	if err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if freed != size {
		t.Errorf("Remove freed %d bytes, want the run's %d", freed, size)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("run directory survived Remove: %v", err)
	}
	if _, err := os.Stat(s.lockPath(drop.RunID)); !os.IsNotExist(err) {
		t.Errorf("lock file survived Remove: %v", err)
	}
	wantStatus(t, s, drop.RunID, drop.Key, graph.Missing)
	wantStatus(t, s, keep.RunID, keep.Key, graph.Valid)
	if entries := tempEntries(t, s); len(entries) != 0 {
		t.Errorf("Remove left %q in the temporary area", entries)
	}

	dropped, err := s.CompactIndex()
	if err != nil {
		t.Fatal(err)
	}
	if dropped != 1 {
		t.Errorf("CompactIndex dropped %d lines, want 1", dropped)
	}
	if lines := indexLines(t, s); len(lines) != 1 {
		t.Errorf("index has %d lines after compaction, want 1: %q", len(lines), lines)
	}
	if _, ok, err := s.Latest("sampler.keep"); err != nil || !ok {
		t.Errorf("Latest(sampler.keep) after compaction = %v, %v; want the kept run", ok, err)
	}
}

func TestRemoveLeavesLockedRun(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	commitNode(t, s, b, 0.5)
	b.Force = true
	txn := mustBegin(t, s, b)
	defer txn.Abort()

	locked, holder, err := s.Locked(b.RunID)
	if err != nil || !locked || holder == nil || holder.PID != os.Getpid() {
		t.Errorf("Locked = %v, %+v, %v; want locked by this process", locked, holder, err)
	}
	if _, err := s.Remove(b.RunID); !errors.Is(err, ErrLocked) {
		t.Errorf("Remove of a locked run = %v, want ErrLocked", err)
	}
	wantStatus(t, s, b.RunID, b.Key, graph.Valid)

	temps, err := s.TempDirs()
	if err != nil {
		t.Fatal(err)
	}
	if len(temps) != 1 || !temps[0].Locked || temps[0].RunID != b.RunID {
		t.Fatalf("TempDirs = %+v, want the transaction's locked directory", temps)
	}
	if _, err := s.RemoveTemp(temps[0]); !errors.Is(err, ErrLocked) {
		t.Errorf("RemoveTemp of a locked directory = %v, want ErrLocked", err)
	}
}

func TestRemoveTempOfDeadWriter(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	left := filepath.Join(s.tmpDir(), b.RunID+".12345")
	if err := os.MkdirAll(left, 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(left, "partial.csv"), []byte("0123456789"))

	temps, err := s.TempDirs()
	if err != nil {
		t.Fatal(err)
	}
	if len(temps) != 1 || temps[0].Locked || temps[0].Size != 10 {
		t.Fatalf("TempDirs = %+v, want one unlocked directory of 10 bytes", temps)
	}
	freed, err := s.RemoveTemp(temps[0])
	if err != nil || freed != 10 {
		t.Errorf("RemoveTemp = %d, %v; want 10 bytes freed", freed, err)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("temporary directory survived: %v", err)
	}
}

func TestCheckRunWithoutPlan(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	dir := commitNode(t, s, b, 0.5)
	if status, detail, err := s.CheckRun(b.RunID); err != nil || status != graph.Valid {
		t.Errorf("CheckRun of a committed run = %s (%s), %v; want valid", status, detail, err)
	}
	if err := os.Truncate(filepath.Join(dir, "a.txt"), 0); err != nil {
		t.Fatal(err)
	}
	if status, _, err := s.CheckRun(b.RunID); err != nil || status != graph.Corrupt {
		t.Errorf("CheckRun of a truncated run = %s, %v; want corrupt", status, err)
	}
	if status, _, err := s.CheckRun("0123456789abcdef"); err != nil || status != graph.Missing {
		t.Errorf("CheckRun of an absent run = %s, %v; want missing", status, err)
	}
}

func TestRecordAllAppendsOnce(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	commitNode(t, s, b, 0.5)
	refs := []RunRef{
		{Address: "sampler.sgld", RunID: b.RunID, Key: b.Key},
		{Address: "sampler.renamed", RunID: b.RunID, Key: b.Key},
		{Address: "sampler.other", RunID: b.RunID, Key: b.Key},
	}
	if err := s.RecordAll(refs); err != nil {
		t.Fatal(err)
	}
	if lines := indexLines(t, s); len(lines) != 3 {
		t.Errorf("index has %d lines, want 3 (the commit and two new addresses): %q", len(lines), lines)
	}
	if err := s.RecordAll(refs); err != nil {
		t.Fatal(err)
	}
	if lines := indexLines(t, s); len(lines) != 3 {
		t.Errorf("a repeated RecordAll appended lines: %d, want 3", len(lines))
	}

	missing := nodeBegin(t, "sampler.missing", 3e-4)
	err := s.RecordAll([]RunRef{{Address: "sampler.missing", RunID: missing.RunID, Key: missing.Key}})
	if err == nil {
		t.Error("RecordAll of a run that is not in the store succeeded")
	}
}

func TestFailuresLists(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	txn := mustBegin(t, s, b)
	if err := txn.Fail("sampler", errors.New("chain 1 diverged"), Provenance{}); err != nil {
		t.Fatal(err)
	}
	failures, err := s.Failures()
	if err != nil {
		t.Fatal(err)
	}
	if len(failures) != 1 || failures[0].Failure == nil || failures[0].Failure.Error != "chain 1 diverged" {
		t.Fatalf("Failures = %+v, want the one failure", failures)
	}
	if time.Since(failures[0].Failure.Time) > time.Minute {
		t.Errorf("failure time %v is not recent", failures[0].Failure.Time)
	}
	if _, err := s.RemoveFailure(b.RunID); err != nil {
		t.Fatal(err)
	}
	if failures, _ := s.Failures(); len(failures) != 0 {
		t.Errorf("Failures after RemoveFailure = %+v, want none", failures)
	}
}

func TestStoreLockKeepsGCOut(t *testing.T) {
	s := newStore(t)
	first, err := s.LockShared()
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.LockShared()
	if err != nil {
		t.Fatalf("a second shared lock: %v", err)
	}
	if _, err := s.LockExclusive(); !errors.Is(err, ErrInUse) {
		t.Errorf("LockExclusive while applies hold the store = %v, want ErrInUse", err)
	}
	first.Release()
	second.Release()
	gc, err := s.LockExclusive()
	if err != nil {
		t.Fatalf("LockExclusive of an unused store: %v", err)
	}
	if _, err := s.LockShared(); !errors.Is(err, ErrInUse) {
		t.Errorf("LockShared during gc = %v, want ErrInUse", err)
	}
	gc.Release()
}
