package modal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llcflow/llcflow/executors"
	"github.com/llcflow/llcflow/executors/modal"
	"github.com/llcflow/llcflow/executors/modal/fakemodal"
	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/store"
)

const (
	testTokenID     = "ak-fake-token-id-5c1e"
	testTokenSecret = "as-fake-token-secret-9b7d"
)

var (
	workerOnce sync.Once
	workerPath string
	workerErr  error
)

// fakeWorker builds the stand-in for `llcflow exec-node` once per test
// binary.
func fakeWorker(t *testing.T) string {
	t.Helper()
	workerOnce.Do(func() {
		dir, err := os.MkdirTemp("", "llcflow-fakeworker-")
		if err != nil {
			workerErr = err
			return
		}
		workerPath = filepath.Join(dir, "fakeworker")
		cmd := exec.Command("go", "build", "-o", workerPath, "github.com/llcflow/llcflow/executors/modal/fakemodal/fakeworker")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			workerErr = errors.New(string(out))
		}
	})
	if workerErr != nil {
		t.Fatalf("build fakeworker: %v", workerErr)
	}
	return workerPath
}

// fixture is a fake Modal with credentials in the environment and an
// executor pointed at it.
type fixture struct {
	srv   *fakemodal.Server
	store string
	opts  modal.Options
	logs  *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv, err := fakemodal.Start(t.TempDir(), testTokenID, testTokenSecret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	setModalEnv(t, srv.URL())
	t.Setenv("MODAL_TOKEN_ID", testTokenID)
	t.Setenv("MODAL_TOKEN_SECRET", testTokenSecret)
	opts := modal.DefaultOptions()
	opts.WorkerBinary = fakeWorker(t)
	opts.Timeout = time.Minute
	opts.BackoffInitial = 10 * time.Millisecond
	opts.BackoffFactor = 2
	return &fixture{srv: srv, store: t.TempDir(), opts: opts, logs: &bytes.Buffer{}}
}

// setModalEnv points the SDK at url and hides the user's ~/.modal.toml.
func setModalEnv(t *testing.T, url string) {
	t.Setenv("MODAL_SERVER_URL", url)
	t.Setenv("MODAL_CONFIG_PATH", filepath.Join(t.TempDir(), "absent.toml"))
	t.Setenv("MODAL_PROFILE", "")
	t.Setenv("MODAL_ENVIRONMENT", "")
	t.Setenv("MODAL_TOKEN_ID", "")
	t.Setenv("MODAL_TOKEN_SECRET", "")
	t.Setenv("MODAL_SANDBOX_CHANNEL_IDLE_TIMEOUT", "0.5")
}

func (f *fixture) executor(t *testing.T) *modal.Executor {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(syncWriter(f.logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
	e, err := modal.New(f.opts, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

var logMu sync.Mutex

type lockedWriter struct{ b *bytes.Buffer }

func (w lockedWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return w.b.Write(p)
}

func syncWriter(b *bytes.Buffer) lockedWriter { return lockedWriter{b} }

// node returns a spec for the fake worker whose key is computed as the
// planner computes it, from the params (with name added) and the inputs,
// each in its own role.
func node(store, name string, params map[string]any, inputs ...*executors.Spec) *executors.Spec {
	p := map[string]any{"name": name}
	for k, v := range params {
		p[k] = v
	}
	s := &executors.Spec{
		FormatVersion: executors.SpecFormatVersion, Address: "target." + name, Type: "target",
		Kind: "fake", Version: "fake/1", Params: p, Store: store,
	}
	var keys []graph.InputKey
	for i, in := range inputs {
		role := fmt.Sprintf("in%d", i)
		s.Inputs = append(s.Inputs, executors.SpecInput{Role: role, Address: in.Address, RunID: in.RunID, Key: in.Key})
		keys = append(keys, graph.InputKey{Role: role, Key: in.Key})
	}
	key, err := graph.ComputeKey(s.Type, s.Kind, s.Version, p, keys)
	if err != nil {
		panic(err)
	}
	s.Key, s.RunID = key, graph.RunIDOf(key)
	return s
}

// runLocally runs the fake worker on the spec in this process's machine,
// the reference for a remote run's bytes.
func runLocally(t *testing.T, worker string, spec *executors.Spec, store string) {
	t.Helper()
	s := *spec
	s.Store = store
	data, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "spec.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(worker, "exec-node", file).CombinedOutput(); err != nil {
		t.Fatalf("local run of %s: %v\n%s", spec.Address, err, out)
	}
}

// treeBytes maps every file under dir/id to its content, without
// provenance.json and log.txt, which record where and when the run was
// made.
func treeBytes(t *testing.T, dir, id string) map[string]string {
	t.Helper()
	files := map[string]string{}
	root := filepath.Join(dir, id)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "provenance.json" || d.Name() == "log.txt" {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		files[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatalf("read run %s in %s: %v", id, dir, err)
	}
	return files
}

func sameTree(t *testing.T, got, want map[string]string, what string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d files, want %d (%v vs %v)", what, len(got), len(want), got, want)
	}
	for name, w := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("%s: file %s missing", what, name)
		} else if g != w {
			t.Errorf("%s: file %s differs:\n got %q\nwant %q", what, name, g, w)
		}
	}
}

// nodeSandboxes returns the node sandboxes the fake ran for a run id.
func nodeSandboxes(srv *fakemodal.Server, runID string) []fakemodal.SandboxInfo {
	var out []fakemodal.SandboxInfo
	for _, sb := range srv.Sandboxes() {
		if len(sb.Command) > 3 && strings.HasPrefix(sb.Command[3], "node ") && strings.Contains(sb.Command[3], runID) {
			out = append(out, sb)
		}
	}
	return out
}

func countPurpose(srv *fakemodal.Server, purpose string) int {
	n := 0
	for _, sb := range srv.Sandboxes() {
		if len(sb.Command) > 3 && sb.Command[3] == purpose {
			n++
		}
	}
	return n
}

func TestRunMatchesLocalRun(t *testing.T) {
	f := newFixture(t)
	e := f.executor(t)
	ctx := context.Background()
	a := node(f.store, "a", map[string]any{"value": 1.5})
	b := node(f.store, "b", map[string]any{"value": 2.0}, a)

	if err := e.Run(ctx, a, nil); err != nil {
		t.Fatalf("run a: %v", err)
	}
	if err := e.Run(ctx, b, nil); err != nil {
		t.Fatalf("run b: %v", err)
	}

	local := t.TempDir()
	runLocally(t, f.opts.WorkerBinary, a, local)
	runLocally(t, f.opts.WorkerBinary, b, local)
	for _, s := range []*executors.Spec{a, b} {
		sameTree(t, treeBytes(t, f.store, s.RunID), treeBytes(t, local, s.RunID), "local store run "+s.RunID)
		sameTree(t, treeBytes(t, f.srv.VolumeDir(f.opts.Volume), s.RunID), treeBytes(t, local, s.RunID), "volume run "+s.RunID)
	}
	if got := treeBytes(t, f.store, b.RunID)["result.json"]; !strings.Contains(got, `"value":3.5`) {
		t.Errorf("b's result.json = %s, want the sum of its value and a's", got)
	}
	if n := countPurpose(f.srv, "upload the worker binary"); n != 1 {
		t.Errorf("worker binary uploaded %d times, want 1", n)
	}
	for _, sb := range f.srv.Sandboxes() {
		if !sb.V2 {
			t.Errorf("sandbox %s is V1; the SDK's default is V2", sb.ID)
		}
	}
}

func TestRunUploadsLocalInputs(t *testing.T) {
	f := newFixture(t)
	e := f.executor(t)
	a := node(f.store, "local-a", map[string]any{"value": 4.0})
	b := node(f.store, "remote-b", map[string]any{"value": 1.0}, a)
	runLocally(t, f.opts.WorkerBinary, a, f.store)

	if err := e.Run(context.Background(), b, nil); err != nil {
		t.Fatalf("run b: %v", err)
	}
	vol := f.srv.VolumeDir(f.opts.Volume)
	sameTree(t, treeBytes(t, vol, a.RunID), treeBytes(t, f.store, a.RunID), "uploaded input")
	if got := treeBytes(t, f.store, b.RunID)["result.json"]; !strings.Contains(got, `"value":5`) {
		t.Errorf("b's result.json = %s, want {\"value\":5}", got)
	}

	// A second executor finds the input and the worker on the volume, so
	// it sends neither again.
	c := node(f.store, "remote-c", map[string]any{"value": 1.0}, a)
	e2 := f.executor(t)
	if err := e2.Run(context.Background(), c, nil); err != nil {
		t.Fatalf("run c: %v", err)
	}
	if n := countPurpose(f.srv, "upload the worker binary"); n != 1 {
		t.Errorf("worker binary uploaded %d times, want 1", n)
	}
	sbs := nodeSandboxes(f.srv, c.RunID)
	if len(sbs) != 1 {
		t.Fatalf("%d sandboxes for c, want 1", len(sbs))
	}
	if inputsSum := sbs[0].Command[9]; inputsSum != "" {
		t.Errorf("c's sandbox received an input archive (sha256 %s), but a was on the volume", inputsSum)
	}
}

func TestTransientFailuresRetried(t *testing.T) {
	for _, kind := range []fakemodal.FaultKind{fakemodal.Lost, fakemodal.Preempted, fakemodal.TimedOut} {
		t.Run(kind.String(), func(t *testing.T) {
			f := newFixture(t)
			e := f.executor(t)
			a := node(f.store, "retry-"+kind.String(), map[string]any{"value": 1.0})
			f.srv.InjectFault(fakemodal.Fault{Kind: kind, Match: a.RunID, Count: 2, After: 20 * time.Millisecond})
			var events []string
			err := e.Run(context.Background(), a, func(ev executors.Event) { events = append(events, ev.Message) })
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if n := len(nodeSandboxes(f.srv, a.RunID)); n != 3 {
				t.Errorf("%d node sandboxes, want 3 (two failed attempts and one that succeeded)", n)
			}
			retries := 0
			for _, ev := range events {
				if strings.Contains(ev, "retrying in") {
					retries++
				}
			}
			if retries != 2 {
				t.Errorf("%d retry events, want 2: %q", retries, events)
			}
			if _, err := os.Stat(filepath.Join(f.store, a.RunID, "manifest.json")); err != nil {
				t.Errorf("run not installed: %v", err)
			}
		})
	}
}

func TestRetryLimit(t *testing.T) {
	f := newFixture(t)
	f.opts.Retries = 2
	e := f.executor(t)
	a := node(f.store, "always-preempted", map[string]any{"value": 1.0})
	f.srv.InjectFault(fakemodal.Fault{Kind: fakemodal.Preempted, Match: a.RunID, Count: 100})
	err := e.Run(context.Background(), a, nil)
	if err == nil {
		t.Fatal("run of an always preempted node returned nil")
	}
	var infra *executors.InfraError
	if errors.As(err, &infra) {
		t.Errorf("err = %v is an InfraError after the retries; the scheduler would retry it again", err)
	}
	for _, want := range []string{"gave up after 3 attempts", "preempted", a.Address} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if n := len(nodeSandboxes(f.srv, a.RunID)); n != 3 {
		t.Errorf("%d node sandboxes, want 3", n)
	}
	if _, err := os.Stat(filepath.Join(f.store, a.RunID)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed node left %s in the store (stat: %v)", a.RunID, err)
	}
}

func TestBackoffGrows(t *testing.T) {
	f := newFixture(t)
	f.opts.Retries = 2
	f.opts.BackoffInitial = 200 * time.Millisecond
	f.opts.BackoffFactor = 3
	e := f.executor(t)
	a := node(f.store, "backoff", map[string]any{"value": 1.0})
	f.srv.InjectFault(fakemodal.Fault{Kind: fakemodal.Lost, Match: a.RunID, Count: 2})
	var waits []string
	err := e.Run(context.Background(), a, func(ev executors.Event) {
		if i := strings.Index(ev.Message, "retrying in "); i >= 0 {
			waits = append(waits, strings.SplitN(ev.Message[i+len("retrying in "):], ":", 2)[0])
		}
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	want := []string{"200ms", "600ms"}
	if strings.Join(waits, ",") != strings.Join(want, ",") {
		t.Errorf("waits %v, want %v", waits, want)
	}
}

func TestNodeErrorNotRetried(t *testing.T) {
	f := newFixture(t)
	e := f.executor(t)
	a := node(f.store, "failing", map[string]any{"fail": true})
	err := e.Run(context.Background(), a, nil)
	if err == nil {
		t.Fatal("run of a failing node returned nil")
	}
	var nodeErr *executors.NodeError
	if !errors.As(err, &nodeErr) {
		t.Errorf("node failure %v is not an executors.NodeError", err)
	}
	for _, want := range []string{"the node was asked to fail", "error.json", "exited with status 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if n := len(nodeSandboxes(f.srv, a.RunID)); n != 1 {
		t.Errorf("%d node sandboxes, want 1: a node failure is not retried", n)
	}
	st, err := store.Open(f.store)
	if err != nil {
		t.Fatal(err)
	}
	status, detail, err := st.Status(a.RunID, a.Key)
	if err != nil || status != store.StatusFailed || !strings.Contains(detail, "the node was asked to fail") {
		t.Errorf("local store status %v (%q, %v), want failed with the node's error", status, detail, err)
	}
}

func TestInterruptedWorkerRetried(t *testing.T) {
	f := newFixture(t)
	f.opts.Retries = 1
	e := f.executor(t)
	a := node(f.store, "interrupted", map[string]any{"interrupted": true})
	err := e.Run(context.Background(), a, nil)
	if err == nil || !strings.Contains(err.Error(), "without recording a failure") {
		t.Fatalf("err = %v, want one that says exec-node recorded no failure", err)
	}
	if n := len(nodeSandboxes(f.srv, a.RunID)); n != 2 {
		t.Errorf("%d node sandboxes, want 2: an exit without a failure record is retried", n)
	}
}

func TestLostOutputDownloadedAgain(t *testing.T) {
	f := newFixture(t)
	e := f.executor(t)
	a := node(f.store, "lossy", map[string]any{"value": 2.0})
	f.srv.InjectFault(fakemodal.Fault{Kind: fakemodal.LoseOutput, Match: a.RunID, Count: 1})
	var events []string
	if err := e.Run(context.Background(), a, func(ev executors.Event) { events = append(events, ev.Message) }); err != nil {
		t.Fatalf("run: %v", err)
	}
	if n := len(nodeSandboxes(f.srv, a.RunID)); n != 1 {
		t.Errorf("%d node sandboxes, want 1: the retry downloads instead of computing again", n)
	}
	if n := countPurpose(f.srv, "download 1 runs from volume llc-runs"); n != 1 {
		t.Errorf("%d download sandboxes, want 1", n)
	}
	if !strings.Contains(strings.Join(events, "\n"), "lost data") {
		t.Errorf("no event reports the lost data: %q", events)
	}
	local := t.TempDir()
	runLocally(t, f.opts.WorkerBinary, a, local)
	sameTree(t, treeBytes(t, f.store, a.RunID), treeBytes(t, local, a.RunID), "downloaded run")
}

func TestWorkerUploadedAgainWhenMissing(t *testing.T) {
	f := newFixture(t)
	e := f.executor(t)
	if err := e.Run(context.Background(), node(f.store, "first", map[string]any{"value": 1.0}), nil); err != nil {
		t.Fatalf("run first: %v", err)
	}
	bin := filepath.Join(f.srv.VolumeDir(f.opts.Volume), ".llcflow", "bin")
	if err := os.RemoveAll(bin); err != nil {
		t.Fatal(err)
	}
	if err := e.Run(context.Background(), node(f.store, "second", map[string]any{"value": 1.0}), nil); err != nil {
		t.Fatalf("run second: %v", err)
	}
	if n := countPurpose(f.srv, "upload the worker binary"); n != 2 {
		t.Errorf("worker binary uploaded %d times, want 2", n)
	}
}

func TestCancelTerminatesSandbox(t *testing.T) {
	f := newFixture(t)
	e := f.executor(t)
	a := node(f.store, "slow", map[string]any{"sleep_ms": 60000.0})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx, a, nil) }()

	deadline := time.Now().Add(20 * time.Second)
	for len(nodeSandboxes(f.srv, a.RunID)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the node sandbox did not start within 20 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return within 20 s of the cancellation")
	}
	sb := nodeSandboxes(f.srv, a.RunID)[0]
	if !sb.Terminated {
		t.Errorf("sandbox %s was not terminated", sb.ID)
	}
}

func TestMaxConcurrent(t *testing.T) {
	f := newFixture(t)
	f.opts.MaxConcurrent = 2
	e := f.executor(t)
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := node(f.store, "parallel-"+string(rune('a'+i)), map[string]any{"value": 1.0, "sleep_ms": 300.0})
			errs[i] = e.Run(context.Background(), s, nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	if got := f.srv.MaxRunning(); got > 2 {
		t.Errorf("%d sandboxes ran at once, want at most 2", got)
	}
}

func TestV1Sandboxes(t *testing.T) {
	f := newFixture(t)
	t.Setenv("MODAL_SANDBOX_V2", "0")
	e := f.executor(t)
	a := node(f.store, "v1-a", map[string]any{"value": 1.0})
	b := node(f.store, "v1-b", map[string]any{"value": 1.0}, a)
	for _, s := range []*executors.Spec{a, b} {
		if err := e.Run(context.Background(), s, nil); err != nil {
			t.Fatalf("run %s: %v", s.Address, err)
		}
	}
	local := t.TempDir()
	runLocally(t, f.opts.WorkerBinary, a, local)
	runLocally(t, f.opts.WorkerBinary, b, local)
	sameTree(t, treeBytes(t, f.store, b.RunID), treeBytes(t, local, b.RunID), "run b")
	for _, sb := range f.srv.Sandboxes() {
		if sb.V2 {
			t.Errorf("sandbox %s is V2 with MODAL_SANDBOX_V2=0", sb.ID)
		}
	}
}

func TestPullRestoresDeletedRun(t *testing.T) {
	f := newFixture(t)
	e := f.executor(t)
	a := node(f.store, "pulled", map[string]any{"value": 7.0})
	if err := e.Run(context.Background(), a, nil); err != nil {
		t.Fatalf("run: %v", err)
	}
	want := treeBytes(t, f.store, a.RunID)
	if err := os.RemoveAll(filepath.Join(f.store, a.RunID)); err != nil {
		t.Fatal(err)
	}
	if err := e.Pull(context.Background(), f.store, map[string]string{a.RunID: a.Key}, false); err != nil {
		t.Fatalf("pull: %v", err)
	}
	sameTree(t, treeBytes(t, f.store, a.RunID), want, "pulled run")

	err := e.Pull(context.Background(), f.store, map[string]string{"0123456789abcdef": ""}, false)
	if !errors.Is(err, modal.ErrRunsMissing) || !strings.Contains(err.Error(), "0123456789abcdef") {
		t.Errorf("pull of an absent run: err = %v, want ErrRunsMissing naming the run", err)
	}
}

func TestListRuns(t *testing.T) {
	f := newFixture(t)
	e := f.executor(t)
	a := node(f.store, "listed-a", map[string]any{"value": 1.0})
	b := node(f.store, "listed-b", map[string]any{"value": 1.0})
	for _, s := range []*executors.Spec{a, b} {
		if err := e.Run(context.Background(), s, nil); err != nil {
			t.Fatalf("run %s: %v", s.Address, err)
		}
	}
	runs, err := e.ListRuns(context.Background())
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	got := map[string]string{}
	for _, r := range runs {
		var m struct {
			Address string `json:"address"`
		}
		if err := json.Unmarshal(r.Provenance, &m); err != nil {
			t.Errorf("provenance of %s: %v", r.RunID, err)
		}
		var manifest struct {
			Key string `json:"key"`
		}
		if err := json.Unmarshal(r.Manifest, &manifest); err != nil || !strings.HasPrefix(manifest.Key, r.RunID) {
			t.Errorf("manifest of %s has key %q (%v)", r.RunID, manifest.Key, err)
		}
		got[r.RunID] = m.Address
	}
	if len(got) != 2 || got[a.RunID] != a.Address || got[b.RunID] != b.Address {
		t.Errorf("listed %v, want %s and %s", got, a.RunID, b.RunID)
	}
}

func TestMissingCredentials(t *testing.T) {
	f := newFixture(t)
	t.Setenv("MODAL_TOKEN_ID", "")
	t.Setenv("MODAL_TOKEN_SECRET", "")
	e := f.executor(t)
	err := e.Run(context.Background(), node(f.store, "no-credentials", nil), nil)
	if !errors.Is(err, modal.ErrMissingCredentials) {
		t.Fatalf("err = %v, want ErrMissingCredentials", err)
	}
	for _, want := range []string{"modal token new", "MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	var infra *executors.InfraError
	if errors.As(err, &infra) {
		t.Errorf("missing credentials reported as transient: %v", err)
	}
	if n := len(f.srv.Sandboxes()); n != 0 {
		t.Errorf("%d sandboxes started without credentials", n)
	}
}

func TestRejectedCredentials(t *testing.T) {
	f := newFixture(t)
	t.Setenv("MODAL_TOKEN_SECRET", "as-wrong-secret")
	e := f.executor(t)
	err := e.Run(context.Background(), node(f.store, "bad-credentials", nil), nil)
	if err == nil || !strings.Contains(err.Error(), "rejected the credentials") || !strings.Contains(err.Error(), "modal token new") {
		t.Fatalf("err = %v, want a rejection with the setup hint", err)
	}
	if strings.Contains(err.Error(), "as-wrong-secret") {
		t.Errorf("error shows the secret: %v", err)
	}
}

func TestCredentialsNeverLogged(t *testing.T) {
	f := newFixture(t)
	e := f.executor(t)
	var events []string
	progress := func(ev executors.Event) { events = append(events, ev.Message) }
	a := node(f.store, "quiet-a", map[string]any{"value": 1.0})
	f.srv.InjectFault(fakemodal.Fault{Kind: fakemodal.Lost, Match: a.RunID, Count: 1})
	if err := e.Run(context.Background(), a, progress); err != nil {
		t.Fatalf("run a: %v", err)
	}
	failErr := e.Run(context.Background(), node(f.store, "quiet-b", map[string]any{"fail": true}), progress)

	var stored bytes.Buffer
	_ = filepath.WalkDir(f.store, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			stored.Write(data)
		}
		return nil
	})
	var sandboxText bytes.Buffer
	for _, sb := range f.srv.Sandboxes() {
		sandboxText.WriteString(strings.Join(sb.Command, " "))
		sandboxText.Write(sb.Stderr)
	}
	logMu.Lock()
	logText := f.logs.String()
	logMu.Unlock()
	if !strings.Contains(logText, "retrying") {
		t.Errorf("the log does not record the retry:\n%s", logText)
	}
	for name, text := range map[string]string{
		"log": logText, "progress": strings.Join(events, "\n"), "error": failErr.Error(),
		"store": stored.String(), "sandbox commands and output": sandboxText.String(),
	} {
		for _, secret := range []string{testTokenID, testTokenSecret} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s contains a credential", name)
			}
		}
	}
}
