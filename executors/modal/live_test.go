package modal_test

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llcflow/llcflow/executors"
	"github.com/llcflow/llcflow/executors/modal"
)

// TestLiveModal runs two nodes on the real Modal service and pulls one
// back. It runs only with LLCFLOW_MODAL_LIVE=1, never merely because
// credentials exist, and uses the app and volume "llcflow-live-test"
// (override with LLCFLOW_MODAL_LIVE_APP and LLCFLOW_MODAL_LIVE_VOLUME).
func TestLiveModal(t *testing.T) {
	if os.Getenv("LLCFLOW_MODAL_LIVE") != "1" {
		t.Skip("set LLCFLOW_MODAL_LIVE=1 to run against the real Modal service")
	}
	worker := filepath.Join(t.TempDir(), "fakeworker")
	build := exec.Command("go", "build", "-o", worker, "github.com/llcflow/llcflow/executors/modal/fakemodal/fakeworker")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the worker: %v\n%s", err, out)
	}
	opts := modal.DefaultOptions()
	opts.App = envOr("LLCFLOW_MODAL_LIVE_APP", "llcflow-live-test")
	opts.Volume = envOr("LLCFLOW_MODAL_LIVE_VOLUME", "llcflow-live-test")
	opts.WorkerBinary = worker
	opts.Timeout = 10 * time.Minute
	opts.Retries = 1
	opts.BackoffInitial = 5 * time.Second
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e, err := modal.New(opts, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	store := t.TempDir()
	stamp := time.Now().UTC().Format("20060102T150405.000000000")
	a := node(store, "live-a-"+stamp, map[string]any{"value": 1.0})
	b := node(store, "live-b-"+stamp, map[string]any{"value": 2.0}, a)
	for _, s := range []*executors.Spec{a, b} {
		if err := e.Run(ctx, s, func(ev executors.Event) { t.Log(ev.Message) }); err != nil {
			t.Fatalf("run %s: %v", s.Address, err)
		}
	}
	if got := treeBytes(t, store, b.RunID)["result.json"]; !strings.Contains(got, `"value":3`) {
		t.Errorf("b's result.json = %s, want value 3", got)
	}
	want := treeBytes(t, store, a.RunID)
	if err := os.RemoveAll(filepath.Join(store, a.RunID)); err != nil {
		t.Fatal(err)
	}
	if err := e.Pull(ctx, store, map[string]string{a.RunID: a.Key}, false); err != nil {
		t.Fatalf("pull: %v", err)
	}
	sameTree(t, treeBytes(t, store, a.RunID), want, "pulled run")
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
