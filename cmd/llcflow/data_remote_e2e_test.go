package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// needCluster skips a test without a SLURM cluster, or fails it when
// LLCFLOW_REQUIRE_SLURM=1 requires one (as in CI).
func needCluster(t *testing.T) {
	t.Helper()
	_, err := exec.LookPath("sbatch")
	if err == nil && os.Getenv("SLURM_CONF") != "" {
		return
	}
	msg := "no SLURM cluster: sbatch is not on PATH or SLURM_CONF is unset (.ci/slurm-up.sh starts one)"
	if os.Getenv("LLCFLOW_REQUIRE_SLURM") == "1" {
		t.Fatal(msg + "; LLCFLOW_REQUIRE_SLURM=1 turns this skip into a failure")
	}
	t.Skip(msg)
}

// File datasets and weights run in the planning process even with
// --backend slurm, because only it has their paths. The sampler runs on
// the cluster, and every run matches a local apply byte for byte.
func TestDataFileOnSlurm(t *testing.T) {
	needCluster(t)
	local := dataWorkdir(t, "data.npz", "weights.npz")
	mustSucceed(t, llcflow(t, local, "apply", "--threads", "1", "data.hcl"), "local apply")
	want := deterministicFiles(t, filepath.Join(local, "runs"))

	remote := dataWorkdir(t, "data.npz", "weights.npz")
	mustSucceed(t, llcflow(t, remote, "apply", "--backend", "slurm", "--cpus", "1", "data.hcl"), "apply --backend slurm")
	got := deterministicFiles(t, filepath.Join(remote, "runs"))
	sameFiles(t, got, want, "slurm apply against local apply")

	for _, n := range planJSON(t, remote, "data.hcl").Nodes {
		var prov struct {
			Executor string `json:"executor"`
		}
		data := readFile(t, remote, "runs", n.RunID, "provenance.json")
		if err := json.Unmarshal([]byte(data), &prov); err != nil {
			t.Fatal(err)
		}
		want := "slurm"
		if n.Type != "sampler" {
			want = "local"
		}
		if prov.Executor != want {
			t.Errorf("%s ran on %q, want %q", n.Address, prov.Executor, want)
		}
	}
}

// On Modal too, file datasets and weights run here and the sampler in a
// sandbox, which needs the dataset of its erm on the volume as well.
func TestDataFileOnModal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds llcflow and runs a small sweep")
	}
	fakeModal(t)
	worker := staticLLCFlow(t)
	local := dataWorkdir(t, "data.npz", "weights.npz")
	mustSucceed(t, llcflow(t, local, "apply", "--threads", "1", "data.hcl"), "local apply")
	want := deterministicFiles(t, filepath.Join(local, "runs"))

	remote := dataWorkdir(t, "data.npz", "weights.npz")
	r := llcflow(t, remote, "apply", "--backend", "modal", "--worker-binary", worker, "--threads", "1", "data.hcl")
	mustSucceed(t, r, "apply --backend modal")
	sameFiles(t, deterministicFiles(t, filepath.Join(remote, "runs")), want, "modal apply against local apply")
}
