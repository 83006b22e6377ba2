package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dataHCL samples around trained weights read from a file, on data read
// from another file, both named relative to the HCL file, which the tests
// run from its own directory.
const dataHCL = `
dataset "table" {
  kind = "KIND"
  path = "DATA"
}

model "net" {
  kind       = "mlp"
  widths     = [3, 4, 1]
  activation = "tanh"
}

erm "trained" {
  dataset = dataset.table
  model   = model.net
  weights = "WEIGHTS"
}

sampler "sgld" {
  kind       = "sgld"
  erm        = erm.trained
  step_size  = 1e-5
  batch_size = 20
  warmup     = 20
  steps      = 100
  eval_every = 5
  chains     = 2
}
`

// dataWorkdir copies a data and a weights fixture of package kinds into
// data/ of a fresh directory and writes data.hcl naming them. The data
// file's extension is its dataset kind.
func dataWorkdir(t *testing.T, dataFile, weightsFile string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{dataFile, weightsFile} {
		data, err := os.ReadFile(filepath.Join("..", "..", "kinds", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "data", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hcl := strings.NewReplacer("KIND", strings.TrimPrefix(filepath.Ext(dataFile), "."),
		"DATA", "data/"+dataFile, "WEIGHTS", "data/"+weightsFile).Replace(dataHCL)
	if err := os.WriteFile(filepath.Join(dir, "data.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func planActions(t *testing.T, dir string) map[string]string {
	t.Helper()
	actions := map[string]string{}
	for _, n := range planJSON(t, dir, "data.hcl").Nodes {
		actions[n.Address] = n.Action
	}
	return actions
}

func TestDataFileMoveKeepsCache(t *testing.T) {
	for _, files := range [][2]string{{"data.csv", "weights.safetensors"}, {"data.npz", "weights.npz"}} {
		t.Run(files[0], func(t *testing.T) {
			dir := dataWorkdir(t, files[0], files[1])
			mustSucceed(t, llcflow(t, dir, "apply", "data.hcl"), "apply")

			moved := filepath.Join(dir, "elsewhere")
			if err := os.Rename(filepath.Join(dir, "data"), moved); err != nil {
				t.Fatal(err)
			}
			renamed := "renamed" + filepath.Ext(files[0])
			if err := os.Rename(filepath.Join(moved, files[0]), filepath.Join(moved, renamed)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "data.hcl")
			editFile(t, path, "data/"+files[0], "elsewhere/"+renamed)
			editFile(t, path, "data/"+files[1], "elsewhere/"+files[1])

			doc := planJSON(t, dir, "data.hcl")
			if doc.Summary.Run != 0 || doc.Summary.Cached != 3 {
				t.Errorf("after moving the files: summary %+v, want all 3 nodes cached", doc.Summary)
			}
		})
	}
}

func TestDataFileEditInvalidatesCache(t *testing.T) {
	dir := dataWorkdir(t, "data.csv", "weights.safetensors")
	mustSucceed(t, llcflow(t, dir, "apply", "data.hcl"), "apply")
	editFile(t, filepath.Join(dir, "data", "data.csv"), "-1.8125", "-1.8126")

	doc := planJSON(t, dir, "data.hcl")
	if doc.Summary.Run != 3 {
		t.Errorf("after editing the data: summary %+v, want all 3 nodes to run", doc.Summary)
	}
	for _, n := range doc.Nodes {
		if n.Address != "dataset.table" {
			continue
		}
		if n.Reason == nil || len(n.Reason.Changes) != 1 || n.Reason.Changes[0].Path != "content_sha256" {
			t.Errorf("dataset.table: reason %+v, want a changed content_sha256", n.Reason)
		}
	}
	mustSucceed(t, llcflow(t, dir, "apply", "data.hcl"), "apply after the edit")
	if got := planActions(t, dir)["sampler.sgld"]; got != "cached" {
		t.Errorf("sampler.sgld after the second apply: %s, want cached", got)
	}
}

func TestDataFileMissingIsDiagnostic(t *testing.T) {
	dir := dataWorkdir(t, "data.csv", "weights.safetensors")
	if err := os.Remove(filepath.Join(dir, "data", "data.csv")); err != nil {
		t.Fatal(err)
	}
	r := llcflow(t, dir, "validate", "data.hcl")
	if r.code != 1 {
		t.Fatalf("validate exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"Data file not found", "on data.hcl line 4", "data/data.csv"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("diagnostic lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestWeightsMismatchIsDiagnostic(t *testing.T) {
	dir := dataWorkdir(t, "data.csv", "weights.safetensors")
	editFile(t, filepath.Join(dir, "data.hcl"), "widths     = [3, 4, 1]", "widths     = [3, 5, 1]")
	r := llcflow(t, dir, "validate", "data.hcl")
	if r.code != 1 {
		t.Fatalf("validate exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"Weights do not fit the model", "on data.hcl line 16", `"layers.0.weight" has shape [4 3]`, "needs [5 3]"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("diagnostic lacks %q:\n%s", want, r.stderr)
		}
	}
}
