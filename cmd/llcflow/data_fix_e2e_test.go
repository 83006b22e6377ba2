package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mustFailValidate runs validate on file in dir and checks that it exits
// with 1 and that stderr contains every phrase of want.
func mustFailValidate(t *testing.T, dir, file string, args []string, want ...string) {
	t.Helper()
	r := llcflow(t, dir, append(append([]string{"validate"}, args...), file)...)
	if r.code != 1 {
		t.Fatalf("validate %s %v: exit %d, want 1\nstderr:\n%s", file, args, r.code, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("validate %s %v: stderr lacks %q:\n%s", file, args, w, r.stderr)
		}
	}
}

func TestCSVNumericFirstRowNeedsHeaderFalse(t *testing.T) {
	dir := dataWorkdir(t, "data.csv", "weights.safetensors")
	path := filepath.Join(dir, "data", "data.csv")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := strings.Cut(string(data), "\n")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	mustFailValidate(t, dir, "data.hcl", nil, "looks like data", "set header = false", "data.hcl line 4")

	editFile(t, filepath.Join(dir, "data.hcl"), `path = "data/data.csv"`, "path = \"data/data.csv\"\n  header = false")
	mustSucceed(t, llcflow(t, dir, "apply", "data.hcl"), "apply with header = false")
	runs := runDirs(t, dir)
	found := false
	for _, run := range runs {
		res := readFile(t, dir, "runs", run, "result.json")
		if strings.Contains(res, `"content_sha256"`) {
			found = true
			if !strings.Contains(res, `"n":40`) && !strings.Contains(res, `"n": 40`) {
				t.Errorf("dataset result %s, want all 40 rows", res)
			}
		}
	}
	if !found {
		t.Errorf("no dataset run among %v", runs)
	}
}

const sizeHCL = `
variable "n_data" {
  type    = number
  default = 100
}

dataset "d" {
  kind    = "teacher_student"
  n       = var.n_data
  in_dim  = 3
  teacher = { widths = [3, 2, 1] }
}

model "m" {
  kind   = "mlp"
  widths = [3, 4, 1]
}

erm "fit" {
  dataset     = dataset.d
  model       = model.m
  steps       = var.steps
  checkpoints = [200]
}

variable "steps" {
  type    = number
  default = 600
}

erm "at" {
  from       = erm.fit
  checkpoint = var.step
}

variable "step" {
  type    = number
  default = 300
}
`

func TestHugeDatasetFailsValidate(t *testing.T) {
	dir := t.TempDir()
	writeHCL(t, dir, "q.hcl", sizeHCL)
	mustSucceed(t, llcflow(t, dir, "validate", "q.hcl"), "validate the defaults")
	mustFailValidate(t, dir, "q.hcl", []string{"--var", "n_data=1e9"}, "Dataset too large", "n = 1000000000", "lower n")
	mustFailValidate(t, dir, "q.hcl", []string{"--var", "n_data=1e20"}, "n = 1e+20 is too large", "2^53")
	r := llcflow(t, dir, "validate", "--var", "n_data=1e20", "q.hcl")
	if strings.Contains(r.stderr, "json") {
		t.Errorf("stderr shows an internal json error:\n%s", r.stderr)
	}
}

func TestLateCheckpointFailsValidate(t *testing.T) {
	dir := t.TempDir()
	writeHCL(t, dir, "q.hcl", sizeHCL)
	mustFailValidate(t, dir, "q.hcl", []string{"--var", "step=650"}, "Checkpoint after the end of training", "650", "600")
	r := llcflow(t, dir, "plan", "--var", "step=650", "q.hcl")
	if r.code != 1 {
		t.Errorf("plan exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
}

func TestCrossEntropyFileDataNeedsClasses(t *testing.T) {
	dir := dataWorkdir(t, "labels.npz", "weights.npz")
	hcl := `
dataset "labels" {
  kind = "npz"
  path = "data/labels.npz"
}

model "net" {
  kind   = "mlp"
  widths = [3, 4, 3]
}

erm "fit" {
  dataset = dataset.labels
  model   = model.net
  loss    = "cross_entropy"
  steps   = 10
}
`
	writeHCL(t, dir, "cls.hcl", hcl)
	mustFailValidate(t, dir, "cls.hcl", nil, "Dataset has no class labels", "set classes = K", "argmax")
	editFile(t, filepath.Join(dir, "cls.hcl"), `path = "data/labels.npz"`, "path = \"data/labels.npz\"\n  classes = 3")
	mustSucceed(t, llcflow(t, dir, "validate", "cls.hcl"), "validate with classes = 3")
}
