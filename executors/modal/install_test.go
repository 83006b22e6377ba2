package modal

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/store"
)

// Two applies that download the same run install it at the same time.
// Each holds the run's lock while it installs, so both succeed and the
// run is valid, where the second rename used to fail on the first's
// directory.
func TestConcurrentInstallsOfOneRun(t *testing.T) {
	src := t.TempDir()
	key, err := graph.ComputeKey("target", "quadratic", "quadratic/1", map[string]any{"eigenvalues": []any{1.0}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := key[:16]
	st, err := store.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	txn, err := st.Begin(context.Background(), store.Begin{Key: key, RunID: id, Address: "target.q",
		Type: "target", Kind: "quadratic", Version: "quadratic/1", Params: map[string]any{"eigenvalues": []any{1.0}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(txn.Dir(), "result.json"), []byte(`{"d": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(store.Provenance{Executor: "modal", LLCFlowVersion: "test"}); err != nil {
		t.Fatal(err)
	}
	data, _, err := runsArchive(src, []string{id})
	if err != nil {
		t.Fatal(err)
	}

	for trial := range 20 {
		dest := t.TempDir()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			archive, err := os.CreateTemp(t.TempDir(), "download-*.tar")
			if err != nil {
				t.Fatal(err)
			}
			defer archive.Close()
			if _, err := archive.Write(data); err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = installRuns(context.Background(), dest, archive, map[string]string{id: key}, false)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("trial %d, install %d: %v", trial, i, err)
			}
		}
		out, err := store.Open(dest)
		if err != nil {
			t.Fatal(err)
		}
		if status, detail, err := out.Status(id, key); err != nil || status != graph.Valid {
			t.Fatalf("trial %d: run status %v (%s, %v), want valid", trial, status, detail, err)
		}
	}
}
