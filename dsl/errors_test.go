package dsl

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// A dataset block that is valid with the fake registry, for cases that
// need something to refer to.
const validDataset = `dataset "d" {
  kind = "gauss"
  n    = 1
}
`

func TestLoadErrorPositions(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		opts  Options
		want  []at
	}{
		{
			name:  "undeclared var argument",
			files: map[string]string{"main.hcl": validDataset},
			opts:  Options{Vars: []string{"nope=1"}},
			want:  []at{{}},
		},
		{
			name:  "var argument without equals",
			files: map[string]string{"main.hcl": validDataset},
			opts:  Options{Vars: []string{"nope"}},
			want:  []at{{}},
		},
		{
			name: "wrong type in default",
			files: map[string]string{"main.hcl": `variable "n" {
  type    = number
  default = "many"
}
`},
			want: []at{{"main.hcl", 3, 13}},
		},
		{
			name: "wrong type in var argument",
			files: map[string]string{"main.hcl": `variable "n" {
  type = number
}
`},
			opts: Options{Vars: []string{"n=many"}},
			want: []at{{}},
		},
		{
			name: "var argument not HCL for list type",
			files: map[string]string{"main.hcl": `variable "w" {
  type = list(number)
}
`},
			opts: Options{Vars: []string{"w=[1,"}},
			want: []at{{}},
		},
		{
			name: "wrong type in list element",
			files: map[string]string{"main.hcl": `variable "w" {
  type    = list(number)
  default = [1, "x"]
}
`},
			want: []at{{"main.hcl", 3, 13}},
		},
		{
			name: "wrong type in var file",
			files: map[string]string{
				"main.hcl": `variable "n" {
  type    = number
  default = 1
}
`,
				"bad.vars": "n = true\nmissing = 2\n",
			},
			opts: Options{VarFiles: []string{"bad.vars"}},
			want: []at{{"bad.vars", 1, 5}, {"bad.vars", 2, 1}},
		},
		{
			name:  "unreadable var file",
			files: map[string]string{"main.hcl": validDataset},
			opts:  Options{VarFiles: []string{"absent.vars"}},
			want:  []at{{}},
		},
		{
			name: "missing value",
			files: map[string]string{"main.hcl": `
variable "n" {
  type = number
}
`},
			want: []at{{"main.hcl", 2, 1}},
		},
		{
			name: "unknown preset",
			files: map[string]string{"main.hcl": `preset "quick" {
}
`},
			opts: Options{Preset: "quik"},
			want: []at{{}},
		},
		{
			name: "preset sets undeclared variable",
			files: map[string]string{"main.hcl": `variable "n" {
  default = 1
}
preset "quick" {
  m = 2
  n = "x"
}
`},
			want: []at{{"main.hcl", 5, 3}},
		},
		{
			name: "preset with wrong type",
			files: map[string]string{"main.hcl": `variable "n" {
  type    = number
  default = 1
}
preset "quick" {
  n = "x"
}
`},
			want: []at{{"main.hcl", 6, 7}},
		},
		{
			name: "local cycle",
			files: map[string]string{"main.hcl": `locals {
  a = local.b + 1
  b = [local.a]
}
`},
			want: []at{{"main.hcl", 2, 7}},
		},
		{
			name: "block cycle",
			files: map[string]string{"main.hcl": `dataset "d" {
  kind = "gauss"
  n    = length(local.fits)
}
locals {
  fits = [erm.fit]
}
erm "fit" {
  dataset = dataset.d
  model   = { widths = [1] }
}
`},
			want: []at{{"main.hcl", 3, 17}},
		},
		{
			name: "self reference",
			files: map[string]string{"main.hcl": `locals {
  a = local.a
}
`},
			want: []at{{"main.hcl", 2, 7}},
		},
		{
			name: "undefined references",
			files: map[string]string{"main.hcl": `dataset "d" {
  kind  = "gauss"
  n     = var.n
  seed  = local.s
  label = sweep.x
  noise = dataset.other
}
erm "fit" {
  dataset = foo.bar
  model   = model.m
  lr      = var
}
`},
			want: []at{
				{"main.hcl", 3, 11}, {"main.hcl", 4, 11}, {"main.hcl", 5, 11}, {"main.hcl", 6, 11},
				{"main.hcl", 9, 13}, {"main.hcl", 10, 13}, {"main.hcl", 11, 13},
			},
		},
		{
			name: "reference to sampler",
			files: map[string]string{"main.hcl": `sampler "s" {
  kind      = "hmc"
  target    = target.t
}
target "t" {
  kind = "quadratic"
  dim  = length([sampler.s])
}
`},
			want: []at{{"main.hcl", 7, 18}},
		},
		{
			name: "duplicate block name",
			files: map[string]string{"main.hcl": validDataset + `
dataset "d" {
  kind = "gauss"
  n    = 2
}
`},
			want: []at{{"main.hcl", 6, 1}},
		},
		{
			name: "duplicate block name across files",
			files: map[string]string{
				"a.hcl": validDataset,
				"b.hcl": "\n\n" + validDataset,
			},
			want: []at{{"b.hcl", 3, 1}},
		},
		{
			name: "duplicate local and variable",
			files: map[string]string{"main.hcl": `locals {
  x = 1
}
locals {
  x = 2
}
variable "v" {
}
variable "v" {
}
`},
			want: []at{{"main.hcl", 5, 3}, {"main.hcl", 7, 1}, {"main.hcl", 9, 1}},
		},
		{
			name: "empty sweep axis",
			files: map[string]string{"main.hcl": `sweep {
  seed = [0]
  none = []
}
`},
			want: []at{{"main.hcl", 3, 10}},
		},
		{
			name: "invalid sweep values",
			files: map[string]string{"main.hcl": `sweep {
  a = 3
  b = [1, 1]
  c = [[1]]
  d = [local.x]
}
locals {
  x = 1
}
`},
			want: []at{{"main.hcl", 2, 7}, {"main.hcl", 3, 7}, {"main.hcl", 4, 7}, {"main.hcl", 5, 8}},
		},
		{
			name: "unknown block type",
			files: map[string]string{"main.hcl": `
datset "d" {
}
`},
			want: []at{{"main.hcl", 2, 1}},
		},
		{
			name: "top-level attribute",
			files: map[string]string{"main.hcl": `n = 1
`},
			want: []at{{"main.hcl", 1, 1}},
		},
		{
			name: "unknown kind",
			files: map[string]string{"main.hcl": `dataset "d" {
  kind = "gaus"
}
`},
			want: []at{{"main.hcl", 2, 10}},
		},
		{
			name: "kind not a literal",
			files: map[string]string{"main.hcl": `variable "k" {
  default = "gauss"
}
dataset "d" {
  kind = var.k
}
`},
			want: []at{{"main.hcl", 5, 10}},
		},
		{
			name: "missing kind",
			files: map[string]string{"main.hcl": `sampler "s" {
  target = 1
}
`},
			want: []at{{"main.hcl", 1, 9}},
		},
		{
			name: "missing block name",
			files: map[string]string{"main.hcl": `dataset {
}
sweep "x" {
}
`},
			want: []at{{"main.hcl", 1, 1}, {"main.hcl", 3, 7}},
		},
		{
			name: "nested block",
			files: map[string]string{"main.hcl": `dataset "d" {
  kind = "gauss"
  n    = 1
  noise {
    scale = 1
  }
}
`},
			want: []at{{"main.hcl", 4, 3}},
		},
		{
			name: "unsupported argument from registry",
			files: map[string]string{"main.hcl": `sampler "s" {
  kind      = "sgld"
  target    = target.t
  step_size = 0.1
  stepsize  = 0.1
}
target "t" {
  kind = "quadratic"
  dim  = 2
}
`},
			want: []at{{"main.hcl", 5, 3}},
		},
		{
			name: "registry errors reported once per block",
			files: map[string]string{"main.hcl": `sweep {
  seed = [1, 2, 3]
}
dataset "d" {
  kind = "gauss"
  seed = sweep.seed
}
`},
			want: []at{{"main.hcl", 4, 9}},
		},
		{
			name: "registry error on the block",
			files: map[string]string{"main.hcl": `sampler "s" {
  kind      = "sgld"
  step_size = 0.1
}
`},
			want: []at{{"main.hcl", 1, 9}},
		},
		{
			name: "reference nested in a list",
			files: map[string]string{"main.hcl": validDataset + `erm "fit" {
  dataset = [dataset.d]
  model   = { widths = [1] }
}
`},
			want: []at{{"main.hcl", 6, 13}},
		},
		{
			name: "model refers to dataset",
			files: map[string]string{"main.hcl": validDataset + `model "m" {
  kind   = "mlp"
  widths = [dataset.d]
}
`},
			want: []at{{"main.hcl", 7, 13}},
		},
		{
			name: "backend refers to sweep",
			files: map[string]string{"main.hcl": `sweep {
  seed = [1]
}
locals {
  s = sweep.seed
}
backend "slurm" {
  a = sweep.seed
  b = local.s
}
backend "cloud" {
}
`},
			want: []at{{"main.hcl", 8, 7}, {"main.hcl", 9, 7}, {"main.hcl", 11, 9}},
		},
		{
			name: "number too large",
			files: map[string]string{"main.hcl": `dataset "d" {
  kind = "gauss"
  n    = 1e400
}
`},
			want: []at{{"main.hcl", 3, 10}},
		},
		{
			name: "integer beyond float64 precision",
			files: map[string]string{"main.hcl": `sweep {
  seed = [9007199254740992, 9007199254740993]
}
dataset "d" {
  kind = "gauss"
  n    = sweep.seed
}
`},
			want: []at{{"main.hcl", 2, 10}},
		},
		{
			name: "evaluation error in swept block",
			files: map[string]string{"main.hcl": `sweep {
  seed = [1, 2]
}
dataset "d" {
  kind = "gauss"
  n    = sweep.seed + "x"
}
`},
			want: []at{{"main.hcl", 6, 23}},
		},
		{
			name: "syntax error in one file",
			files: map[string]string{
				"a.hcl": "dataset \"d\" {\n  kind = \n}\n",
				"b.hcl": `erm "fit" {
  dataset = dataset.d
  model   = model.missing
}
`,
			},
			want: []at{{"a.hcl", 2, 10}, {"b.hcl", 3, 13}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, diags := loadFiles(t, tt.files, tt.opts)
			got := errorPositions(diags)
			if !slices.Equal(got, tt.want) {
				var b strings.Builder
				WriteDiagnostics(&b, diags, w.Files, 0, false)
				t.Errorf("error positions: got %v, want %v\n%s", got, tt.want, b.String())
			}
		})
	}
}

func TestLoadReportsEveryErrorInFile(t *testing.T) {
	w, diags := Load([]string{"testdata/errors.hcl"}, Options{Registry: fakeRegistry{}})
	want := []at{
		{"errors.hcl", 3, 13},  // default of the wrong type
		{"errors.hcl", 6, 1},   // unknown block type
		{"errors.hcl", 10, 10}, // unknown kind
		{"errors.hcl", 13, 1},  // duplicate block
		{"errors.hcl", 20, 15}, // undeclared target
		{"errors.hcl", 21, 15}, // reference to a sampler
	}
	if got := errorPositions(diags); !slices.Equal(got, want) {
		var b strings.Builder
		WriteDiagnostics(&b, diags, w.Files, 0, false)
		t.Errorf("error positions: got %v, want %v\n%s", got, want, b.String())
	}
}

// relatedPositions returns where each related range of d starts.
func relatedPositions(d *hcl.Diagnostic) []at {
	var out []at
	for _, r := range RelatedRanges(d) {
		out = append(out, positionOf(&r))
	}
	return out
}

func TestLoadRelatedRanges(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		subject at
		related []at
	}{
		{
			name: "local cycle",
			files: map[string]string{"main.hcl": `locals {
  a = local.b + 1
  b = [local.a]
}
`},
			subject: at{"main.hcl", 2, 7},
			related: []at{{"main.hcl", 3, 8}},
		},
		{
			name: "block cycle through a local",
			files: map[string]string{"main.hcl": `dataset "d" {
  kind = "gauss"
  n    = length(local.fits)
}
locals {
  fits = [erm.fit]
}
erm "fit" {
  dataset = dataset.d
  model   = { widths = [1] }
}
`},
			subject: at{"main.hcl", 3, 17},
			related: []at{{"main.hcl", 6, 11}, {"main.hcl", 9, 13}},
		},
		{
			name: "duplicate across files",
			files: map[string]string{
				"a.hcl": validDataset,
				"b.hcl": "\n\n" + validDataset,
			},
			subject: at{"b.hcl", 3, 1},
			related: []at{{"a.hcl", 1, 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := loadFiles(t, tt.files, Options{})
			if len(diags) != 1 {
				t.Fatalf("got %d diagnostics, want 1: %v", len(diags), diags)
			}
			if got := positionOf(diags[0].Subject); got != tt.subject {
				t.Errorf("subject: got %v, want %v", got, tt.subject)
			}
			if got := relatedPositions(diags[0]); !slices.Equal(got, tt.related) {
				t.Errorf("related: got %v, want %v", got, tt.related)
			}
		})
	}
}

func TestCycleLeavesOtherBlocksEvaluated(t *testing.T) {
	w, diags := loadFiles(t, map[string]string{"main.hcl": validDataset + `locals {
  a = local.b
  b = local.a
}
`}, Options{})
	if got := len(diags); got != 1 {
		t.Errorf("got %d diagnostics, want 1 for the cycle: %v", got, diags)
	}
	if got := addresses(w.Defs); !slices.Equal(got, []string{"dataset.d"}) {
		t.Errorf("addresses: got %v, want [dataset.d]", got)
	}
}

func TestDiagnosticsHaveRangesInFiles(t *testing.T) {
	w, diags := Load([]string{"testdata/errors.hcl"}, Options{Registry: fakeRegistry{}, Vars: []string{"x=1"}})
	for _, d := range diags {
		if d.Subject == nil {
			if !strings.Contains(d.Detail, "--var") {
				t.Errorf("diagnostic %q has no range and does not name its argument", d.Summary)
			}
			continue
		}
		if w.Files[d.Subject.Filename] == nil {
			t.Errorf("diagnostic %q points at %s, which is not in Files", d.Summary, d.Subject.Filename)
		}
		if d.Subject.Start.Line < 1 || d.Subject.Start.Column < 1 {
			t.Errorf("diagnostic %q has position %v", d.Summary, d.Subject.Start)
		}
	}
	if diags[0].Subject != nil {
		t.Errorf("first diagnostic: got %q at %v, want the --var error, which has no range", diags[0].Summary, diags[0].Subject)
	}
}

func TestLoadMissingPaths(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		name  string
		paths []string
	}{
		{"no paths", nil},
		{"missing file", []string{filepath.Join(empty, "absent.hcl")}},
		{"directory without hcl files", []string{empty}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, diags := Load(tt.paths, Options{Registry: fakeRegistry{}})
			if got := errorPositions(diags); !slices.Equal(got, []at{{}}) {
				t.Errorf("error positions: got %v, want one error without a range", got)
			}
			if w == nil || len(w.Defs) != 0 {
				t.Errorf("workflow: got %+v, want an empty workflow", w)
			}
		})
	}
}
