package kinds

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llcflow/llcflow/npy"
)

// The fixtures in testdata come from testdata/make_fixtures.py, whose
// formulas these functions repeat.
const fixtureRows, fixtureIn = 40, 3

func fixtureX(i, j int) float64 { return float64((7*i+3*j)%64)/16 - 2 }
func fixtureY(i int) float64    { return float64((5*i)%64)/16 - 2 }
func fixtureWeight(k int) float64 {
	return float64((11*k)%64)/16 - 2
}

func testdataDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// normalizeIn normalizes a block as the DSL does for a block declared in
// a file of dir.
func normalizeIn(t *testing.T, dir, blockType, kind string, attrs map[string]any) map[string]any {
	t.Helper()
	params, errs := Registry{}.NormalizeFile(filepath.Join(dir, "main.hcl"), blockType, kind, attrs)
	if len(errs) > 0 {
		t.Fatalf("normalize %s %s: %v", blockType, kind, fieldErrors(errs))
	}
	return params
}

// runNormalized runs a kind on params that are already normalized.
func (s *testStore) runNormalized(t *testing.T, blockType, kind, runID string, params map[string]any, inputs map[string]string) string {
	t.Helper()
	dir, err := s.tryRunNormalized(blockType, kind, runID, params, inputs)
	if err != nil {
		t.Fatalf("run %s %s: %v", blockType, kind, err)
	}
	return dir
}

func checkFixtureArrays(t *testing.T, dir string) {
	t.Helper()
	x, y, n, in, out, err := readArrays(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != fixtureRows || in != fixtureIn || out != 1 {
		t.Fatalf("shapes n=%d in=%d out=%d, want %d, %d, 1", n, in, out, fixtureRows, fixtureIn)
	}
	for i := 0; i < n; i++ {
		for j := 0; j < in; j++ {
			if x[i*in+j] != fixtureX(i, j) {
				t.Fatalf("X[%d, %d] = %v, want %v", i, j, x[i*in+j], fixtureX(i, j))
			}
		}
		if y[i] != fixtureY(i) {
			t.Fatalf("Y[%d] = %v, want %v", i, y[i], fixtureY(i))
		}
	}
}

func TestFileDatasetsReadFixtures(t *testing.T) {
	dir := testdataDir(t)
	cases := []struct {
		kind  string
		attrs map[string]any
	}{
		{"npz", map[string]any{"path": "data.npz"}},
		{"npy", map[string]any{"x_path": "x_fortran.npy", "y_path": "y.npy"}},
		{"csv", map[string]any{"path": "data.csv"}},
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			params := normalizeIn(t, dir, "dataset", tc.kind, tc.attrs)
			for attr := range tc.attrs {
				if _, ok := params[attr]; ok {
					t.Errorf("params keep %s = %v, want the path replaced by a content hash", attr, params[attr])
				}
			}
			s := newTestStore(t)
			out := s.runNormalized(t, "dataset", tc.kind, "data", params, nil)
			checkFixtureArrays(t, out)
			res, err := readDatasetResult(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.ContentSHA256) != len(tc.attrs) {
				t.Errorf("content_sha256 = %v, want one hash per file", res.ContentSHA256)
			}
		})
	}
}

// copyFixture copies a testdata file into dir under name.
func copyFixture(t *testing.T, fixture, dir, name string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFileDatasetKeyFollowsContent(t *testing.T) {
	for _, fixture := range []string{"data.npz", "data.csv"} {
		kind := strings.TrimPrefix(filepath.Ext(fixture), ".")
		a, b := t.TempDir(), t.TempDir()
		copyFixture(t, fixture, a, fixture)
		copyFixture(t, fixture, b, "moved."+kind)
		first := canonical(t, normalizeIn(t, a, "dataset", kind, map[string]any{"path": fixture}))
		moved := canonical(t, normalizeIn(t, b, "dataset", kind, map[string]any{"path": "moved." + kind}))
		if first != moved {
			t.Errorf("%s: params after moving the file = %s, before %s, want equal", kind, moved, first)
		}
	}

	// Change one digit of a value, which leaves a valid table.
	dir := t.TempDir()
	copyFixture(t, "data.csv", dir, "data.csv")
	before := canonical(t, normalizeIn(t, dir, "dataset", "csv", map[string]any{"path": "data.csv"}))
	editFixture(t, filepath.Join(dir, "data.csv"), "-1.8125", "-1.8126")
	after := canonical(t, normalizeIn(t, dir, "dataset", "csv", map[string]any{"path": "data.csv"}))
	if before == after {
		t.Errorf("params after editing a byte = %s, want a new content hash", after)
	}
}

func editFixture(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), old, new, 1)
	if edited == string(data) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFileDatasetDiagnostics(t *testing.T) {
	dir := t.TempDir()
	copyFixture(t, "data.npz", dir, "data.npz")
	if err := os.WriteFile(filepath.Join(dir, "junk.npz"), []byte("not a zip file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.csv"), []byte("a,b\n1,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		kind    string
		attrs   map[string]any
		attr    string
		summary string
		detail  string
	}{
		{"missing", "npz", map[string]any{"path": "nope.npz"}, "path", "Data file not found", "nope.npz"},
		{"malformed", "npz", map[string]any{"path": "junk.npz"}, "path", "Invalid data file", "Not a NumPy .npz archive"},
		{"missing array", "npz", map[string]any{"path": "data.npz", "x": "inputs"}, "x", "Invalid data file", `no array "inputs"; it has "X", "Y"`},
		{"bad number", "csv", map[string]any{"path": "bad.csv"}, "path", "Invalid data file", `Row 2, column 2: "x" is not a number`},
		{"bad labels", "npz", map[string]any{"path": "data.npz", "classes": 3.0}, "classes", "Invalid data file", "is not a class 0 … 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := Registry{}.NormalizeFile(filepath.Join(dir, "main.hcl"), "dataset", tc.kind, tc.attrs)
			if len(errs) != 1 {
				t.Fatalf("errors = %v, want one", fieldErrors(errs))
			}
			e := errs[0]
			if e.Attr != tc.attr {
				t.Errorf("error at %q, want %q", e.Attr, tc.attr)
			}
			if e.Summary != tc.summary {
				t.Errorf("summary %q, want %q", e.Summary, tc.summary)
			}
			if !strings.Contains(e.Detail, tc.detail) {
				t.Errorf("detail %q, want it to contain %q", e.Detail, tc.detail)
			}
		})
	}
}

func TestFileDatasetRunRejectsChangedFile(t *testing.T) {
	dir := t.TempDir()
	copyFixture(t, "data.npz", dir, "data.npz")
	params := normalizeIn(t, dir, "dataset", "npz", map[string]any{"path": "data.npz"})
	copyFixture(t, "labels.npz", dir, "data.npz")
	s := newTestStore(t)
	_, err := s.tryRunNormalized("dataset", "npz", "data", params, nil)
	if err == nil || !strings.Contains(err.Error(), "changed after it was planned") {
		t.Errorf("error = %v, want one saying the file changed", err)
	}
}

func TestFileLabelsTrainCrossEntropy(t *testing.T) {
	dir := testdataDir(t)
	s := newTestStore(t)
	params := normalizeIn(t, dir, "dataset", "npz", map[string]any{"path": "labels.npz", "classes": 3.0})
	s.runNormalized(t, "dataset", "npz", "data", params, nil)
	out := s.run(t, "erm", "erm", "fit", map[string]any{
		"model": map[string]any{"kind": "mlp", "depth": 1.0, "width": 5.0, "activation": "tanh", "bias": true, "init": "he"},
		"loss":  "cross_entropy", "steps": 20.0,
	}, map[string]string{"dataset": "data"})
	res := readERMResult(t, out)
	if !equalInts(res.Model.Widths, []int{3, 5, 3}) {
		t.Errorf("model widths %v, want [3 5 3] with one logit per class", res.Model.Widths)
	}
	if _, ok := res.Accuracy.(float64); !ok {
		t.Errorf("accuracy = %v, want a number", res.Accuracy)
	}
}

// fixtureModel is the model the weights fixtures fit.
func fixtureModel() map[string]any {
	return map[string]any{"kind": "mlp", "widths": []any{3.0, 4.0, 1.0}, "activation": "tanh", "bias": true, "init": "he"}
}

func TestWeightsFilesAreWStar(t *testing.T) {
	dir := testdataDir(t)
	for _, file := range []string{"weights.npz", "weights.safetensors"} {
		t.Run(file, func(t *testing.T) {
			s := newTestStore(t)
			dataParams := normalizeIn(t, dir, "dataset", "npz", map[string]any{"path": "data.npz"})
			s.runNormalized(t, "dataset", "npz", "data", dataParams, nil)
			params := normalizeIn(t, dir, "erm", "erm", map[string]any{
				"dataset": dataRef(), "model": fixtureModel(), "weights": file,
			})
			delete(params, "dataset")
			if params["steps"] != 0.0 {
				t.Errorf("steps = %v, want 0 with a weights file", params["steps"])
			}
			out := s.runNormalized(t, "erm", "erm", "fit", params, map[string]string{"dataset": "data"})
			_, w, err := npy.Read(filepath.Join(out, fileWeights))
			if err != nil {
				t.Fatal(err)
			}
			if len(w) != 21 {
				t.Fatalf("w* has %d values, want 21", len(w))
			}
			for k, v := range w {
				if v != fixtureWeight(k) {
					t.Fatalf("w*[%d] = %v, want %v", k, v, fixtureWeight(k))
				}
			}
			if res := readERMResult(t, out); res.Init != "weights" {
				t.Errorf("init = %q, want weights", res.Init)
			}
		})
	}
}

func TestWeightsFileRejectsMismatch(t *testing.T) {
	dir := testdataDir(t)
	cases := []struct {
		name   string
		file   string
		model  map[string]any
		detail string
	}{
		{"transposed", "weights_transposed.npz", fixtureModel(), `Array "layers.0.weight" has shape [3 4], but the model with widths [3 4 1] needs [4 3]`},
		{"no bias", "weights.npz", map[string]any{"kind": "mlp", "widths": []any{3.0, 4.0, 1.0}, "activation": "tanh", "bias": false, "init": "he"},
			`Array "layers.0.bias" is not a parameter of the model`},
		{"wider", "weights.safetensors", map[string]any{"kind": "mlp", "widths": []any{3.0, 5.0, 1.0}, "activation": "tanh", "bias": true, "init": "he"},
			`Array "layers.0.weight" has shape [4 3], but the model with widths [3 5 1] needs [5 3]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := Registry{}.NormalizeFile(filepath.Join(dir, "main.hcl"), "erm", "erm", map[string]any{
				"dataset": dataRef(), "model": tc.model, "weights": tc.file,
			})
			if len(errs) != 1 || errs[0].Attr != "weights" {
				t.Fatalf("errors = %v, want one on weights", fieldErrors(errs))
			}
			if !strings.Contains(errs[0].Detail, tc.detail) {
				t.Errorf("detail %q, want it to contain %q", errs[0].Detail, tc.detail)
			}
		})
	}
}
