package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llcflow/llcflow/graph"
)

func TestBeginCachedAfterCommit(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	commitNode(t, s, b, 0.5)

	_, err := s.Begin(t.Context(), b)
	if !errors.Is(err, ErrCached) {
		t.Fatalf("Begin = %v, want ErrCached", err)
	}
	// The lock was released: a Begin that does not wait gets past it.
	b.Force = true
	b.LockTimeout = -1
	txn := mustBegin(t, s, b)
	if err := txn.Abort(); err != nil {
		t.Fatal(err)
	}
}

func TestBeginForceReplacesRun(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	commitNode(t, s, b, 0.5)
	b.Force = true
	commitNode(t, s, b, 0.25)

	wantStatus(t, s, b.RunID, b.Key, graph.Valid)
	var result map[string]float64
	if err := s.ReadResult(b.RunID, &result); err != nil || result["llc_mean"] != 0.25 {
		t.Errorf("result = %v, %v; want the forced run's llc_mean 0.25", result, err)
	}
	if names := tempEntries(t, s); len(names) != 0 {
		t.Errorf(".tmp holds %v after the replacement", names)
	}
}

func TestBeginRejectsForgedKey(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	dir := commitNode(t, s, b, 0.5)
	forged := b.RunID + strings.Repeat("0", 48)
	editManifest(t, dir, func(m *Manifest) { m.Key = forged })
	before, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}

	detail := wantStatus(t, s, b.RunID, b.Key, graph.Corrupt)
	if !strings.Contains(detail, forged) || !strings.Contains(detail, b.Key) {
		t.Errorf("detail %q does not name both keys", detail)
	}
	for _, force := range []bool{false, true} {
		b.Force = force
		_, err = s.Begin(t.Context(), b)
		if err == nil || !strings.Contains(err.Error(), "not the node's key") {
			t.Errorf("Begin (force %v) = %v, want a key mismatch error", force, err)
		}
	}
	after, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil || !equalStrings([]string{string(before)}, []string{string(after)}) {
		t.Errorf("the run directory with the other key was changed: %v", err)
	}
}

func TestCommitIgnoresParamChangesByKind(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	txn := mustBegin(t, s, b)
	b.Params["step_size"] = 5.0
	b.Params["opt"].(map[string]any)["kind"] = "adam"
	writeOutputs(t, txn.Dir(), 0.5)
	if err := txn.Commit(Provenance{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(b.RunID); err != nil {
		t.Errorf("Verify after the caller changed its params map: %v", err)
	}
}

func TestBeginRejectsKeyOfOtherContents(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	b.Params = map[string]any{"step_size": 2e-4}
	_, err := s.Begin(t.Context(), b)
	if err == nil || !strings.Contains(err.Error(), "plan again") {
		t.Errorf("Begin = %v, want an error saying the key does not match the params", err)
	}
}

func TestBeginRejectsBadInputs(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	b.Inputs = []ManifestInput{{Role: "erm", RunID: "../../x", Key: b.Inputs[0].Key}}
	if _, err := s.Begin(t.Context(), b); err == nil || !strings.Contains(err.Error(), "invalid run id") {
		t.Errorf("Begin = %v, want an invalid input run id", err)
	}
}

func TestBeginReplacesCorruptRun(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	dir := commitNode(t, s, b, 0.5)
	if err := os.Truncate(filepath.Join(dir, "result.json"), 1); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, s, b.RunID, b.Key, graph.Corrupt)

	commitNode(t, s, b, 0.5)
	wantStatus(t, s, b.RunID, b.Key, graph.Valid)
	if err := s.Verify(b.RunID); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestCommitReplacesFileAtRunPath(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	if err := os.MkdirAll(s.Root(), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, s.RunDir(b.RunID), []byte("not a run"))
	wantStatus(t, s, b.RunID, b.Key, graph.Corrupt)
	commitNode(t, s, b, 0.5)
	wantStatus(t, s, b.RunID, b.Key, graph.Valid)
}

func TestFailRecordsFailure(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld[seed=0]", 1e-4)
	txn := mustBegin(t, s, b)
	mustWrite(t, filepath.Join(txn.Dir(), "partial.csv"), []byte("step,loss\n"))
	for i := 0; i < 80; i++ {
		fmt.Fprintf(txn.Log(), "line %d\n", i)
	}
	cause := errors.New("chain 2 produced NaN at step 17 with step size 0.1; use a smaller step size")
	if err := txn.Fail("sampler", cause, Provenance{Executor: "local"}); err != nil {
		t.Fatalf("Fail: %v", err)
	}

	detail := wantStatus(t, s, b.RunID, b.Key, graph.Failed)
	if !strings.Contains(detail, "the last attempt failed at") || !strings.Contains(detail, "in stage sampler") ||
		!strings.Contains(detail, "chain 2 produced NaN") {
		t.Errorf("detail = %q", detail)
	}
	if _, err := os.Stat(s.RunDir(b.RunID)); !os.IsNotExist(err) {
		t.Errorf("a failed attempt left a run directory: %v", err)
	}
	f, ok, err := s.Failure(b.RunID)
	if err != nil || !ok {
		t.Fatalf("Failure = %v, %v", ok, err)
	}
	if f.RunID != b.RunID || f.Key != b.Key || f.Address != b.Address || f.Stage != "sampler" ||
		f.Error != cause.Error() || f.Time.IsZero() {
		t.Errorf("Failure = %+v", f)
	}
	if !strings.HasPrefix(f.Log, "line 30\n") || !strings.HasSuffix(f.Log, "line 79") {
		t.Errorf("log tail = %q, want lines 30 to 79", f.Log)
	}
	for _, name := range []string{"partial.csv", "log.txt", "error.json", "provenance.json"} {
		if _, err := os.Stat(filepath.Join(s.FailureDir(b.RunID), name)); err != nil {
			t.Errorf("failed attempt lacks %s: %v", name, err)
		}
	}
	if s.FailureLog(b.RunID) != filepath.Join(s.FailureDir(b.RunID), "log.txt") {
		t.Errorf("FailureLog = %s", s.FailureLog(b.RunID))
	}
	if err := txn.Fail("sampler", cause, Provenance{}); !errors.Is(err, ErrFinished) {
		t.Errorf("second Fail = %v, want ErrFinished", err)
	}

	// A later attempt is not cached, and its commit clears the failure.
	commitNode(t, s, b, 0.5)
	wantStatus(t, s, b.RunID, b.Key, graph.Valid)
	if _, ok, _ := s.Failure(b.RunID); ok {
		t.Error("the failure record survived a successful commit")
	}
}

func TestFailReplacesEarlierFailure(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	for _, msg := range []string{"first", "second"} {
		txn := mustBegin(t, s, b)
		if err := txn.Fail("sampler", errors.New(msg), Provenance{}); err != nil {
			t.Fatal(err)
		}
	}
	f, ok, err := s.Failure(b.RunID)
	if err != nil || !ok || f.Error != "second" {
		t.Errorf("Failure = %+v, %v, %v; want the second attempt", f, ok, err)
	}
	if names := tempEntries(t, s); len(names) != 0 {
		t.Errorf(".tmp holds %v", names)
	}
}

func TestCommitWithoutResultFails(t *testing.T) {
	cases := map[string]func(dir string){
		"missing result": func(dir string) {},
		"invalid result": func(dir string) { os.WriteFile(filepath.Join(dir, "result.json"), []byte("{"), 0o644) },
		"symlink output": func(dir string) {
			os.WriteFile(filepath.Join(dir, "result.json"), []byte("{}"), 0o644)
			os.Symlink("/etc/hostname", filepath.Join(dir, "link"))
		},
	}
	for name, prepare := range cases {
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			b := nodeBegin(t, "sampler.sgld", 1e-4)
			txn := mustBegin(t, s, b)
			prepare(txn.Dir())
			if err := txn.Commit(Provenance{}); err == nil {
				t.Fatal("Commit returned no error")
			}
			detail := wantStatus(t, s, b.RunID, b.Key, graph.Failed)
			if !strings.Contains(detail, "stage commit") {
				t.Errorf("detail = %q, want the commit stage", detail)
			}
			if err := txn.Abort(); err != nil {
				t.Errorf("Abort after a failed Commit = %v", err)
			}
			// The failed commit released the lock.
			b.LockTimeout = -1
			if err := mustBegin(t, s, b).Abort(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestAbortRemovesAttempt(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	txn := mustBegin(t, s, b)
	writeOutputs(t, txn.Dir(), 0.5)
	if err := txn.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(txn.Dir()); !os.IsNotExist(err) {
		t.Errorf("Abort left %s: %v", txn.Dir(), err)
	}
	wantStatus(t, s, b.RunID, b.Key, graph.Missing)
	b.LockTimeout = -1
	if err := mustBegin(t, s, b).Abort(); err != nil {
		t.Fatal(err)
	}
}

func TestCommitRemovesCheckpoint(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	ckpt := s.CheckpointDir(b.RunID)
	if err := os.MkdirAll(ckpt, 0o755); err != nil {
		t.Fatal(err)
	}
	commitNode(t, s, b, 0.5)
	if _, err := os.Stat(ckpt); !os.IsNotExist(err) {
		t.Errorf("checkpoint %s survived the commit: %v", ckpt, err)
	}
}

func TestLockTimeoutNamesHolder(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	holder := mustBegin(t, s, b)
	defer holder.Abort()

	b.LockTimeout = 100 * time.Millisecond
	start := time.Now()
	_, err := s.Begin(t.Context(), b)
	if !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("Begin = %v, want ErrLockTimeout", err)
	}
	if elapsed := time.Since(start); elapsed < b.LockTimeout || elapsed > 5*time.Second {
		t.Errorf("Begin gave up after %v, want about %v", elapsed, b.LockTimeout)
	}
	host, _ := os.Hostname()
	for _, want := range []string{fmt.Sprintf("pid %d", os.Getpid()), "host " + host, s.lockPath(b.RunID)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestBeginHonoursContext(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	holder := mustBegin(t, s, b)
	defer holder.Abort()

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	b.LockTimeout = time.Minute
	start := time.Now()
	_, err := s.Begin(ctx, b)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Begin = %v, want the context's error", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Begin returned %v after the context ended", elapsed)
	}
}

func TestBeginRaceGoroutines(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	const workers = 8

	var computed, cached atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			txn, err := s.Begin(context.Background(), b)
			if errors.Is(err, ErrCached) {
				cached.Add(1)
				return
			}
			if err != nil {
				errs <- err
				return
			}
			computed.Add(1)
			writeOutputs(t, txn.Dir(), 0.5)
			time.Sleep(50 * time.Millisecond)
			if err := txn.Commit(Provenance{}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()

	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if computed.Load() != 1 || cached.Load() != workers-1 {
		t.Errorf("computed %d times and cached %d times, want 1 and %d",
			computed.Load(), cached.Load(), workers-1)
	}
	wantStatus(t, s, b.RunID, b.Key, graph.Valid)
}

func TestBeginRemovesStaleTemp(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	other := nodeBegin(t, "sampler.other", 2e-4)
	stale := filepath.Join(s.tmpDir(), b.RunID+".12345")
	keep := filepath.Join(s.tmpDir(), other.RunID+".12345")
	for _, dir := range []string{stale, keep} {
		if err := os.MkdirAll(filepath.Join(dir, "chains"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	txn := mustBegin(t, s, b)
	defer txn.Abort()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale %s survived Begin: %v", stale, err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("Begin removed %s of another run id: %v", keep, err)
	}
}
