package store

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/llcflow/llcflow/graph"
)

// nodeBegin returns a Begin for a sampler node with the given step size,
// reading one erm input, with the key computed as the planner does.
func nodeBegin(t testing.TB, address string, stepSize float64) Begin {
	t.Helper()
	ermKey, err := graph.ComputeKey("erm", "erm", "erm/1", map[string]any{"steps": 100.0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]any{"step_size": stepSize, "chains": 4.0, "opt": map[string]any{"kind": "rms"}}
	inputs := []ManifestInput{{Role: "erm", RunID: ermKey[:16], Key: ermKey}}
	key, err := graph.ComputeKey("sampler", "sgld", "sgld/1", params,
		[]graph.InputKey{{Role: "erm", Key: ermKey}})
	if err != nil {
		t.Fatal(err)
	}
	return Begin{
		Key: key, RunID: key[:16], Address: address, Type: "sampler", Kind: "sgld",
		Version: "sgld/1", Params: params, Inputs: inputs, LockTimeout: 10 * time.Second,
	}
}

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "runs"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustBegin(t testing.TB, s *Store, b Begin) *Txn {
	t.Helper()
	txn, err := s.Begin(context.Background(), b)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	return txn
}

// writeOutputs writes a result.json with the given estimate and a nested
// weights file, as a kind would.
func writeOutputs(t testing.TB, dir string, llc float64) {
	t.Helper()
	data, err := json.Marshal(map[string]any{"llc_mean": llc})
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dir, "result.json"), data)
	if err := os.MkdirAll(filepath.Join(dir, "chains"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dir, "chains", "loss.csv"), []byte("step,loss\n0,0.5\n1,0.25\n"))
	mustWrite(t, filepath.Join(dir, "a.txt"), []byte("a"))
}

func mustWrite(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// commitNode writes and commits a run for b and returns its directory.
func commitNode(t testing.TB, s *Store, b Begin, llc float64) string {
	t.Helper()
	txn := mustBegin(t, s, b)
	writeOutputs(t, txn.Dir(), llc)
	if err := txn.Commit(Provenance{Executor: "local"}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return s.RunDir(b.RunID)
}

func wantStatus(t testing.TB, s *Store, runID, key string, want graph.RunStatus) string {
	t.Helper()
	status, detail, err := s.Status(runID, key)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if status != want {
		t.Fatalf("Status = %s (%s), want %s", status, detail, want)
	}
	return detail
}

func tempEntries(t testing.TB, s *Store) []string {
	t.Helper()
	entries, err := os.ReadDir(s.tmpDir())
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
