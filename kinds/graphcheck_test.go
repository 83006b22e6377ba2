package kinds

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/graph"
)

func loadGraph(t *testing.T, src string) *graph.Graph {
	t.Helper()
	path := filepath.Join(t.TempDir(), "w.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	wf, diags := dsl.Load([]string{path}, dsl.Options{Registry: Registry{}})
	if diags.HasErrors() {
		t.Fatalf("load: %v", diags)
	}
	g, err := graph.Build(wf.Defs)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

const checkBase = `
dataset "d" {
  kind    = "teacher_student"
  n       = N
  in_dim  = 3
  teacher = { widths = [3, 2, 1] }
}
model "m" {
  kind   = "mlp"
  widths = WIDTHS
}
erm "e" {
  dataset = dataset.d
  model   = model.m
}
sampler "s" {
  kind = "sgld"
  erm  = erm.e
}
`

func checkSource(n, widths string) string {
	return strings.NewReplacer("N", n, "WIDTHS", widths).Replace(checkBase)
}

func TestCheckGraphAcceptsFittingModel(t *testing.T) {
	if errs := CheckGraph(loadGraph(t, checkSource("100", "[3, 8, 1]"))); len(errs) != 0 {
		t.Errorf("errors %+v, want none", errs)
	}
}

func TestCheckGraphModelWidths(t *testing.T) {
	for _, widths := range []string{"[4, 8, 1]", "[3, 8, 2]"} {
		errs := CheckGraph(loadGraph(t, checkSource("100", widths)))
		if len(errs) != 1 {
			t.Fatalf("widths %s: %d errors %+v, want 1", widths, len(errs), errs)
		}
		if errs[0].Address != "erm.e" || !strings.HasSuffix(errs[0].Source, "w.hcl:12") {
			t.Errorf("widths %s: error at %s (%s), want erm.e at w.hcl:12", widths, errs[0].Address, errs[0].Source)
		}
	}
}

func TestCheckGraphTooFewPointsForBeta0(t *testing.T) {
	errs := CheckGraph(loadGraph(t, checkSource("1", "[3, 8, 1]")))
	if len(errs) != 1 || errs[0].Address != "sampler.s" {
		t.Fatalf("errors %+v, want one at sampler.s", errs)
	}
	src := strings.Replace(checkSource("1", "[3, 8, 1]"), `erm  = erm.e`, "erm  = erm.e\n  n_beta = 10", 1)
	if errs := CheckGraph(loadGraph(t, src)); len(errs) != 0 {
		t.Errorf("with n_beta set: errors %+v, want none", errs)
	}
}

func TestCheckGraphCheckpointSteps(t *testing.T) {
	cases := []struct {
		name, training, step, summary string
	}{
		{"after the end", "steps = 600\n  checkpoints = [200]", "650", "Checkpoint after the end of training"},
		{"no saved state", "steps = 600", "300", "No saved training state"},
		{"last step", "steps = 600", "600", ""},
		{"saved", "steps = 600\n  num_checkpoints = 3", "300", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(checkSource("100", "[3, 8, 1]"), "model   = model.m", "model   = model.m\n  "+tc.training, 1) +
				"erm \"at\" {\n  from       = erm.e\n  checkpoint = " + tc.step + "\n}\n"
			errs := CheckGraph(loadGraph(t, src))
			if tc.summary == "" {
				if len(errs) != 0 {
					t.Errorf("errors %+v, want none", errs)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("errors %+v, want one", errs)
			}
			if errs[0].Address != "erm.at" || errs[0].Summary != tc.summary {
				t.Errorf("error %s %q, want erm.at %q", errs[0].Address, errs[0].Summary, tc.summary)
			}
		})
	}
}

func TestCheckGraphCrossEntropyNeedsLabels(t *testing.T) {
	labels, err := filepath.Abs(filepath.Join("testdata", "labels.npz"))
	if err != nil {
		t.Fatal(err)
	}
	fileData := func(classes string) string {
		return "dataset \"f\" {\n  kind = \"npz\"\n  path = \"" + labels + "\"\n  " + classes + "\n}\n" +
			"model \"m\" {\n  kind   = \"mlp\"\n  depth  = 1\n  width  = 4\n}\n" +
			"erm \"e\" {\n  dataset = dataset.f\n  model   = model.m\n  loss    = \"cross_entropy\"\n}\n"
	}
	cases := []struct {
		name, src, detail string
	}{
		{"file without classes", fileData(""), "set classes = K"},
		{"file with classes", fileData("classes = 3"), ""},
		{"regression data", strings.Replace(checkSource("100", "[3, 8, 2]"), "model   = model.m", "model   = model.m\n  loss = \"cross_entropy\"", 1), "real-valued targets"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var errs []GraphError
			for _, e := range CheckGraph(loadGraph(t, tc.src)) {
				if e.Summary == "Dataset has no class labels" {
					errs = append(errs, e)
				}
			}
			if tc.detail == "" {
				if len(errs) != 0 {
					t.Errorf("errors %+v, want none", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Address != "erm.e" || !strings.Contains(errs[0].Detail, tc.detail) {
				t.Errorf("errors %+v, want one at erm.e containing %q", errs, tc.detail)
			}
		})
	}
}

func TestSamplerRejectsHugeWholeNumbers(t *testing.T) {
	_, errs := Registry{}.Normalize("sampler", "sgld", map[string]any{
		"erm":    dsl.Ref{Type: "erm", Name: "e", Address: "erm.e"},
		"chains": 1e17,
	})
	if len(errs) != 1 || errs[0].Attr != "chains" {
		t.Fatalf("errors %+v, want one at chains", errs)
	}
}

// The shapes of file datasets come from the files that validation read,
// so a model that does not fit them is rejected before anything runs.
func TestCheckGraphFileDatasetWidths(t *testing.T) {
	fixture := func(name string) string {
		path, err := filepath.Abs(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return path
	}
	source := func(dataset, widths, loss string) string {
		return "dataset \"f\" {\n" + dataset + "\n}\n" +
			"model \"m\" {\n  kind   = \"mlp\"\n  widths = " + widths + "\n}\n" +
			"erm \"e\" {\n  dataset = dataset.f\n  model   = model.m\n  " + loss + "\n}\n"
	}
	npz := "  kind = \"npz\"\n  path = \"" + fixture("data.npz") + "\""
	swapped := npz + "\n  x = \"Y\"\n  y = \"X\""
	npy := "  kind   = \"npy\"\n  x_path = \"" + fixture("x_fortran.npy") + "\"\n  y_path = \"" + fixture("y.npy") + "\""
	csv := "  kind = \"csv\"\n  path = \"" + fixture("data.csv") + "\""
	labels := "  kind    = \"npz\"\n  path    = \"" + fixture("labels.npz") + "\"\n  classes = 3"
	cases := []struct {
		name, src, detail string
	}{
		{"npz fits", source(npz, "[3, 4, 1]", ""), ""},
		{"npz swapped", source(swapped, "[3, 4, 1]", ""), "input dimension 1 and output dimension 3"},
		{"npy fits", source(npy, "[3, 4, 1]", ""), ""},
		{"npy too wide", source(npy, "[4, 4, 1]", ""), "Make the first width 3 and the last 1"},
		{"csv fits", source(csv, "[3, 4, 1]", ""), ""},
		{"csv two outputs", source(csv, "[3, 4, 2]", ""), "Make the first width 3 and the last 1"},
		{"labels fit", source(labels, "[3, 4, 3]", "loss = \"cross_entropy\""), ""},
		{"labels one logit", source(labels, "[3, 4, 1]", "loss = \"cross_entropy\""), "3 classes, one logit each"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := CheckGraph(loadGraph(t, tc.src))
			if tc.detail == "" {
				if len(errs) != 0 {
					t.Errorf("errors %+v, want none", errs)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("errors %+v, want one", errs)
			}
			if errs[0].Address != "erm.e" || errs[0].Summary != "Model does not fit the dataset" {
				t.Errorf("error %s at %s, want Model does not fit the dataset at erm.e", errs[0].Summary, errs[0].Address)
			}
			if !strings.Contains(errs[0].Detail, tc.detail) {
				t.Errorf("detail %q, want it to contain %q", errs[0].Detail, tc.detail)
			}
		})
	}
}

func TestCheckGraphClassificationWidths(t *testing.T) {
	src := `
dataset "d" {
  kind    = "teacher_classification"
  n       = 100
  in_dim  = 3
  teacher = { widths = [3, 4] }
}
model "m" {
  kind   = "mlp"
  widths = WIDTHS
}
erm "e" {
  dataset = dataset.d
  model   = model.m
  loss    = "cross_entropy"
}
`
	if errs := CheckGraph(loadGraph(t, strings.Replace(src, "WIDTHS", "[3, 8, 4]", 1))); len(errs) != 0 {
		t.Errorf("one logit per class: errors %+v, want none", errs)
	}
	errs := CheckGraph(loadGraph(t, strings.Replace(src, "WIDTHS", "[3, 8, 1]", 1)))
	if len(errs) != 1 || !strings.Contains(errs[0].Detail, "Make the first width 3 and the last 4") {
		t.Errorf("one logit: errors %+v, want one asking for the last width 4", errs)
	}
}
