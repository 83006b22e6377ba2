package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// The real binary applies a sweep with --backend modal against the
// loopback fake of Modal and gets the runs of a local apply, byte for
// byte; a second apply runs nothing.
func TestApplyBackendModalMatchesLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds llcflow and runs a small sweep")
	}
	srv := fakeModal(t)
	worker := staticLLCFlow(t)

	local := workdir(t, "small.hcl")
	mustSucceed(t, llcflow(t, local, "apply", "--threads", "1", "small.hcl"), "local apply")
	want := deterministicFiles(t, filepath.Join(local, "runs"))

	remote := workdir(t, "small.hcl")
	r := llcflow(t, remote, "apply", "--backend", "modal", "--worker-binary", worker, "--threads", "1", "small.hcl")
	mustSucceed(t, r, "apply --backend modal")
	sameFiles(t, deterministicFiles(t, filepath.Join(remote, "runs")), want, "modal apply against local apply")
	sameFiles(t, deterministicFiles(t, srv.VolumeDir("llc-runs")), want, "volume against local apply")

	again := llcflow(t, remote, "apply", "--backend", "modal", "--worker-binary", worker, "small.hcl")
	mustSucceed(t, again, "second apply --backend modal")
	if !strings.Contains(again.stderr, "0 done, 6 cached") {
		t.Errorf("second apply ran nodes:\n%s", again.stderr)
	}
}

// Missing credentials stop apply before any node runs, with the setup steps.
func TestApplyBackendModalWithoutCredentials(t *testing.T) {
	t.Setenv("MODAL_TOKEN_ID", "")
	t.Setenv("MODAL_TOKEN_SECRET", "")
	t.Setenv("MODAL_CONFIG_PATH", filepath.Join(t.TempDir(), "absent.toml"))
	t.Setenv("MODAL_SERVER_URL", "http://127.0.0.1:1")
	dir := workdir(t, "small.hcl")
	r := llcflow(t, dir, "apply", "--backend", "modal", "small.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "modal token new") || !strings.Contains(r.stderr, "MODAL_TOKEN_ID") {
		t.Errorf("message does not say how to set up credentials:\n%s", r.stderr)
	}
}
