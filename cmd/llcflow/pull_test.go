package main

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llcflow/llcflow/executors/modal"
	"github.com/llcflow/llcflow/executors/modal/fakemodal"
	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/scheduler"
	"github.com/llcflow/llcflow/store"
)

var (
	staticOnce   sync.Once
	staticBinary string
	staticErr    error
)

// staticLLCFlow builds llcflow as the Modal sandboxes need it: static,
// for linux/amd64.
func staticLLCFlow(t *testing.T) string {
	t.Helper()
	staticOnce.Do(func() {
		dir, err := os.MkdirTemp("", "llcflow-static-")
		if err != nil {
			staticErr = err
			return
		}
		staticBinary = filepath.Join(dir, "llcflow")
		build := exec.Command("go", "build", "-o", staticBinary, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if out, err := build.CombinedOutput(); err != nil {
			staticErr = &buildError{string(out), err}
		}
	})
	if staticErr != nil {
		t.Fatalf("build static llcflow: %v", staticErr)
	}
	return staticBinary
}

type buildError struct {
	output string
	err    error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.output }

// fakeModal serves a fake Modal and points the SDK at it with a token.
func fakeModal(t *testing.T) *fakemodal.Server {
	t.Helper()
	srv, err := fakemodal.Start(t.TempDir(), "ak-cmd-test", "as-cmd-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	t.Setenv("MODAL_SERVER_URL", srv.URL())
	t.Setenv("MODAL_CONFIG_PATH", filepath.Join(t.TempDir(), "absent.toml"))
	t.Setenv("MODAL_PROFILE", "")
	t.Setenv("MODAL_ENVIRONMENT", "")
	t.Setenv("MODAL_TOKEN_ID", "ak-cmd-test")
	t.Setenv("MODAL_TOKEN_SECRET", "as-cmd-test")
	t.Setenv("MODAL_SANDBOX_CHANNEL_IDLE_TIMEOUT", "0.5")
	return srv
}

// deterministicFiles maps each file of every run in a store to its bytes,
// keyed by "RUN_ID/NAME", without provenance.json and log.txt, which
// record where and when a run was made.
func deterministicFiles(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range entries {
		if store.CheckRunID(ent.Name()) != nil {
			continue
		}
		dir := filepath.Join(root, ent.Name())
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() == "provenance.json" || d.Name() == "log.txt" {
				return err
			}
			data, err := os.ReadFile(p)
			rel, _ := filepath.Rel(root, p)
			files[filepath.ToSlash(rel)] = string(data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func sameFiles(t *testing.T, got, want map[string]string, what string) {
	t.Helper()
	var missing, differ, extra []string
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			missing = append(missing, name)
		case g != w:
			differ = append(differ, name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			extra = append(extra, name)
		}
	}
	sort.Strings(missing)
	sort.Strings(differ)
	sort.Strings(extra)
	if len(missing)+len(differ)+len(extra) > 0 {
		t.Errorf("%s: missing %v, different %v, unexpected %v", what, missing, differ, extra)
	}
}

// applyOnModal plans the workflow against the store and runs it with the
// Modal executor, as apply --backend modal does.
func applyOnModal(t *testing.T, c *cli, paths []string, opts modal.Options) {
	t.Helper()
	l, err := (&loadFlags{Paths: paths}).load(c, false)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(c.Store)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := graph.MakePlan(l.graph, st, graph.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}

	e, err := modal.New(opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	res, err := scheduler.Apply(context.Background(), plan.Entries, scheduler.Options{
		Executor: e, Store: st.Root(), Parallelism: 2, Threads: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Failed {
		t.Errorf("node %s failed on Modal: %v", f.Node.Address, f.Err)
	}
	if len(res.Done) == 0 {
		t.Fatal("no node ran on Modal")
	}
}

func TestModalApplyMatchesLocalAndPullRestores(t *testing.T) {
	if testing.Short() {
		t.Skip("builds llcflow and runs a small sweep")
	}
	srv := fakeModal(t)
	worker := staticLLCFlow(t)

	local := workdir(t, "small.hcl")
	mustSucceed(t, llcflow(t, local, "apply", "--threads", "1", "small.hcl"), "local apply")
	want := deterministicFiles(t, filepath.Join(local, "runs"))

	remote := t.TempDir()
	if err := os.WriteFile(filepath.Join(remote, "small.hcl"), mustRead(t, "testdata/small.hcl"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &cli{Store: filepath.Join(remote, "runs")}
	opts := modal.DefaultOptions()
	opts.WorkerBinary = worker
	opts.Timeout = 5 * time.Minute
	opts.BackoffInitial = 10 * time.Millisecond
	applyOnModal(t, c, []string{filepath.Join(remote, "small.hcl")}, opts)
	sameFiles(t, deterministicFiles(t, c.Store), want, "modal runs against local runs")
	sameFiles(t, deterministicFiles(t, srv.VolumeDir("llc-runs")), want, "volume runs against local runs")

	// pull RUN_ID restores one deleted run.
	var one string
	for name := range want {
		one, _, _ = strings.Cut(name, "/")
		break
	}
	if err := os.RemoveAll(filepath.Join(c.Store, one)); err != nil {
		t.Fatal(err)
	}
	worker2 := worker
	if err := (&pullCmd{modalFlags: modalFlags{WorkerBinary: &worker2}, RunIDs: []string{one}}).Run(c); err != nil {
		t.Fatalf("pull %s: %v", one, err)
	}
	sameFiles(t, deterministicFiles(t, c.Store), want, "store after pull RUN_ID")

	// pull --file restores every run of the workflow.
	for name := range want {
		id, _, _ := strings.Cut(name, "/")
		os.RemoveAll(filepath.Join(c.Store, id))
	}
	if err := (&pullCmd{File: []string{filepath.Join(remote, "small.hcl")}}).Run(c); err != nil {
		t.Fatalf("pull --file: %v", err)
	}
	sameFiles(t, deterministicFiles(t, c.Store), want, "store after pull --file")

	// The planner reports the pulled runs as cached.
	mustSucceed(t, llcflow(t, remote, "plan", "--detailed-exitcode", "small.hcl"), "plan after pull")
}

func TestPullAbsentRun(t *testing.T) {
	fakeModal(t)
	c := &cli{Store: t.TempDir()}
	err := (&pullCmd{RunIDs: []string{"0123456789abcdef"}}).Run(c)
	if err == nil || !strings.Contains(err.Error(), "0123456789abcdef") || !strings.Contains(err.Error(), "not on the volume") {
		t.Fatalf("err = %v, want one that names the absent run", err)
	}
	if err := (&pullCmd{RunIDs: []string{"not-a-run-id"}}).Run(c); err == nil || !strings.Contains(err.Error(), "invalid run id") {
		t.Errorf("pull of a malformed run id: err = %v", err)
	}
}

func TestPullWithoutCredentials(t *testing.T) {
	fakeModal(t)
	t.Setenv("MODAL_TOKEN_ID", "")
	t.Setenv("MODAL_TOKEN_SECRET", "")
	err := (&pullCmd{}).Run(&cli{Store: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "modal token new") {
		t.Fatalf("err = %v, want the setup hint", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
