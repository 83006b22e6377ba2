package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/llcflow/llcflow/kinds"
)

// reproHCL has every sampler kind on a trained MLP and on a target, for
// two seeds, so a rerun exercises the dataset, erm and sampler paths.
const reproHCL = `
sweep {
  seed = [0, 1]
}

dataset "teacher" {
  kind    = "teacher_student"
  n       = 100
  in_dim  = 2
  teacher = { widths = [2, 3, 1], activation = "tanh" }
}

model "student" {
  kind       = "mlp"
  widths     = [2, 3, 1]
  activation = "tanh"
}

erm "fit" {
  dataset = dataset.teacher
  model   = model.student
  steps   = 200
}

target "crossing" {
  kind      = "monomial"
  exponents = [1, 2]
}

sampler "sgld" {
  kind       = "sgld"
  erm        = erm.fit
  step_size  = 1e-3
  batch_size = 32
  warmup     = 50
  steps      = 300
  eval_every = 3
  seed       = sweep.seed
}

sampler "hmc" {
  kind   = "hmc"
  erm    = erm.fit
  warmup = 50
  draws  = 100
  seed   = sweep.seed
}

sampler "mclmc" {
  kind       = "mclmc"
  target     = target.crossing
  n_beta     = 144.76
  tune_steps = 50
  warmup     = 20
  draws      = 200
  seed       = sweep.seed
}
`

// nondeterministic lists the files of a run that record time and place
// rather than results.
var nondeterministic = []string{"provenance.json", "log.txt"}

// readRuns returns the deterministic files of every run in dir's store,
// keyed by run id and file name.
func readRuns(t *testing.T, dir string) map[string]map[string][]byte {
	t.Helper()
	runs := map[string]map[string][]byte{}
	for _, id := range runDirs(t, dir) {
		entries, err := os.ReadDir(filepath.Join(dir, "runs", id))
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		for _, e := range entries {
			if e.IsDir() || slices.Contains(nondeterministic, e.Name()) {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, "runs", id, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			files[e.Name()] = data
		}
		runs[id] = files
	}
	return runs
}

// sameRuns reports every run or file that differs between two stores.
func sameRuns(t *testing.T, what string, want, got map[string]map[string][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d runs, want %d", what, len(got), len(want))
	}
	for id, files := range want {
		other, ok := got[id]
		if !ok {
			t.Errorf("%s: run %s is missing", what, id)
			continue
		}
		for name, data := range files {
			if !bytes.Equal(other[name], data) {
				t.Errorf("%s: run %s file %s differs", what, id, name)
			}
		}
		if len(other) != len(files) {
			t.Errorf("%s: run %s has %d files, want %d", what, id, len(other), len(files))
		}
	}
}

// The same nodes built by two processes at different -j, and rebuilt with
// --no-skip in the same store, must give byte-identical deterministic
// outputs: every file of every run except provenance and log.
func TestApplyTwiceByteIdentical(t *testing.T) {
	dirs := []string{t.TempDir(), t.TempDir()}
	for i, j := range []string{"1", "4"} {
		if err := os.WriteFile(filepath.Join(dirs[i], "repro.hcl"), []byte(reproHCL), 0o644); err != nil {
			t.Fatal(err)
		}
		mustSucceed(t, llcflow(t, dirs[i], "apply", "-j", j, "repro.hcl"), "apply -j "+j)
	}
	first := readRuns(t, dirs[0])
	if len(first) != 9 {
		t.Fatalf("store has %d runs, want 9 (dataset, erm, target, 6 samplers)", len(first))
	}
	sameRuns(t, "-j 4 against -j 1", first, readRuns(t, dirs[1]))

	mustSucceed(t, llcflow(t, dirs[0], "apply", "--no-skip", "-j", "2", "--threads", "1", "repro.hcl"),
		"apply --no-skip")
	sameRuns(t, "rerun against the first run", first, readRuns(t, dirs[0]))
}

// Sampler nodes that differ only in seed must draw from different random
// streams: no chain may repeat a loss of another chain, of its own node or
// of the other seed's, at the same draw.
func TestSeedsShareNoChainStream(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "repro.hcl"), []byte(reproHCL), 0o644); err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, llcflow(t, dir, "apply", "repro.hcl"), "apply")
	doc := planJSON(t, dir, "repro.hcl")
	bySampler := map[string][][]float64{}
	for _, n := range doc.Nodes {
		if n.Type != "sampler" {
			continue
		}
		tr, err := kinds.ReadTrace(filepath.Join(dir, "runs", n.RunID, "trace.csv"))
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range tr.Chains {
			bySampler[n.Kind] = append(bySampler[n.Kind], ch.Loss)
		}
	}
	for kind, chains := range bySampler {
		if len(chains) != 8 {
			t.Fatalf("%s: %d chains over both seeds, want 8", kind, len(chains))
		}
		for a := range chains {
			for b := a + 1; b < len(chains); b++ {
				for i := range 10 {
					if chains[a][i] == chains[b][i] {
						t.Errorf("%s: chains %d and %d share draw %d, loss %v", kind, a, b, i,
							chains[a][i])
					}
				}
			}
		}
	}
}
