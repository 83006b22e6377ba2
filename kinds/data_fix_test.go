package kinds

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llcflow/llcflow/dsl"
)

// writeTestFile writes content into dir/name.
func writeTestFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// normalizeErr normalizes a block declared in dir/main.hcl and returns its
// one error, failing the test on any other count.
func normalizeErr(t *testing.T, dir, blockType, kind string, attrs map[string]any) dsl.FieldError {
	t.Helper()
	_, errs := Registry{}.NormalizeFile(filepath.Join(dir, "main.hcl"), blockType, kind, attrs)
	if len(errs) != 1 {
		t.Fatalf("errors = %v, want one", fieldErrors(errs))
	}
	return errs[0]
}

func TestCSVRejectsNumericHeader(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "d.csv", "1,2,3\n4,5,6\n7,8,9\n")
	e := normalizeErr(t, dir, "dataset", "csv", map[string]any{"path": "d.csv"})
	if e.Attr != "path" {
		t.Errorf("error at %q, want path", e.Attr)
	}
	if !strings.Contains(e.Detail, "looks like data") || !strings.Contains(e.Detail, "set header = false") {
		t.Errorf("detail %q, want it to say the first row looks like data and to set header = false", e.Detail)
	}

	params := normalizeIn(t, dir, "dataset", "csv", map[string]any{"path": "d.csv", "header": false})
	out := newTestStore(t).runNormalized(t, "dataset", "csv", "data", params, nil)
	res, err := readDatasetResult(out)
	if err != nil {
		t.Fatal(err)
	}
	if res.N != 3 {
		t.Errorf("n = %d with header = false, want all 3 rows", res.N)
	}
}

func TestCSVAcceptsTextHeader(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "d.csv", "a,b,1e3\n4,5,6\n")
	params := normalizeIn(t, dir, "dataset", "csv", map[string]any{"path": "d.csv"})
	out := newTestStore(t).runNormalized(t, "dataset", "csv", "data", params, nil)
	if res, err := readDatasetResult(out); err != nil || res.N != 1 {
		t.Errorf("result %+v, %v, want n = 1", res, err)
	}
}

func TestCSVStripsByteOrderMark(t *testing.T) {
	for _, header := range []bool{false, true} {
		dir := t.TempDir()
		content := "1,2\n3,4\n"
		if header {
			content = "x,y\n" + content
		}
		writeTestFile(t, dir, "d.csv", "\ufeff"+content)
		params := normalizeIn(t, dir, "dataset", "csv", map[string]any{"path": "d.csv", "header": header})
		out := newTestStore(t).runNormalized(t, "dataset", "csv", "data", params, nil)
		x, y, n, _, _, err := readArrays(out)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 || x[0] != 1 || y[1] != 4 {
			t.Errorf("header = %v: n = %d, X = %v, Y = %v, want 2 rows from 1,2 and 3,4", header, n, x, y)
		}
	}
}

func TestCSVHintsAtDelimiter(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "semi.csv", "a;b;c\n1;2;3\n")
	writeTestFile(t, dir, "tab.csv", "1\t2\n3\t4\n")
	cases := []struct {
		file   string
		header bool
		want   string
	}{
		{"semi.csv", true, `set delimiter = ";"`},
		{"tab.csv", false, `set delimiter = "\t"`},
	}
	for _, tc := range cases {
		e := normalizeErr(t, dir, "dataset", "csv", map[string]any{"path": tc.file, "header": tc.header})
		if !strings.Contains(e.Detail, tc.want) {
			t.Errorf("%s: detail %q, want it to contain %q", tc.file, e.Detail, tc.want)
		}
	}
}

func TestCSVRejectsRepeatedYColumn(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "d.csv", "a,b,c,d\n1,2,3,4\n")
	e := normalizeErr(t, dir, "dataset", "csv", map[string]any{"path": "d.csv", "y_columns": []any{3.0, -1.0}})
	if e.Attr != "y_columns" || !strings.Contains(e.Detail, "names column 3 twice") {
		t.Errorf("error %s: %s, want y_columns naming column 3 twice", e.Attr, e.Detail)
	}
}

func TestCSVNonFiniteNamesFileRow(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "d.csv", "a,b\n1,2\n3,NaN\n")
	e := normalizeErr(t, dir, "dataset", "csv", map[string]any{"path": "d.csv"})
	if !strings.Contains(e.Detail, `Row 3, column 2 is "NaN"`) {
		t.Errorf("detail %q, want the file row 3 and column 2 of the NaN", e.Detail)
	}
}

// npzOfFloat16 returns a .npz archive with arrays X and Y of dtype <f2,
// each of shape (2,) and zero bytes.
func npzOfFloat16(t *testing.T) []byte {
	t.Helper()
	header := "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }"
	// The magic, version and length take 10 bytes; the header pads the
	// total to a multiple of 64 and ends with a newline.
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad) + "\n"
	var member bytes.Buffer
	member.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&member, binary.LittleEndian, uint16(len(header)))
	member.WriteString(header)
	member.Write(make([]byte, 4))

	var archive bytes.Buffer
	zw := zip.NewWriter(&archive)
	for _, name := range []string{"X.npy", "Y.npy"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(member.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return archive.Bytes()
}

func TestNPZFloat16Message(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "half.npz", string(npzOfFloat16(t)))
	e := normalizeErr(t, dir, "dataset", "npz", map[string]any{"path": "half.npz"})
	if !strings.Contains(e.Detail, "float16 is not supported; save the array as float32 or float64") {
		t.Errorf("detail %q, want it to say float16 is not supported", e.Detail)
	}
}

func TestWeightsFileErrorsNameWeights(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "junk.npz", "not a zip file")
	cases := []struct{ file, summary string }{
		{"junk.npz", "Invalid weights file"},
		{"absent.npz", "Weights file not found"},
		{"w.pt", "Invalid weights file"},
	}
	for _, tc := range cases {
		e := normalizeErr(t, dir, "erm", "erm", map[string]any{
			"dataset": dataRef(), "model": fixtureModel(), "weights": tc.file,
		})
		if e.Summary != tc.summary {
			t.Errorf("%s: summary %q, want %q", tc.file, e.Summary, tc.summary)
		}
	}
}

func TestDatasetSizeLimits(t *testing.T) {
	cases := []struct {
		name    string
		n       float64
		summary string
		detail  string
	}{
		{"over memory", 1e9, "Dataset too large", "n = 1000000000 points of in_dim 3 and out_dim 1"},
		{"over 2^53", 1e20, "Invalid value", "n = 1e+20 is too large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			attrs := teacherStudentAttrs()
			attrs["n"] = tc.n
			_, errs := Registry{}.Normalize("dataset", "teacher_student", attrs)
			if len(errs) != 1 {
				t.Fatalf("errors = %v, want one", fieldErrors(errs))
			}
			if errs[0].Attr != "n" || errs[0].Summary != tc.summary || !strings.Contains(errs[0].Detail, tc.detail) {
				t.Errorf("error %s: %s: %s, want n: %s containing %q", errs[0].Attr, errs[0].Summary, errs[0].Detail, tc.summary, tc.detail)
			}
		})
	}

	// 8 GiB / (4 × 8 bytes) points fit exactly, one more does not.
	limit := float64(maxDataBytes / 32)
	for _, n := range []float64{limit, limit + 1} {
		attrs := teacherStudentAttrs()
		attrs["n"] = n
		_, errs := Registry{}.Normalize("dataset", "teacher_student", attrs)
		if tooLarge := len(errs) > 0; tooLarge != (n > limit) {
			t.Errorf("n = %g: errors %v, want an error only above %g", n, fieldErrors(errs), limit)
		}
	}
}

func TestOtherKindsRejectHugeIntegers(t *testing.T) {
	cases := []struct {
		blockType, kind string
		attrs           map[string]any
		attr            string
	}{
		{"dataset", "linear_teacher", map[string]any{"n": 1e9, "widths": []any{4.0, 3.0, 4.0}, "rank": 1.0}, "n"},
		{"dataset", "linear_teacher", map[string]any{"widths": []any{4.0, 1e19, 4.0}, "rank": 1.0}, "widths"},
		{"dataset", "teacher_classification", map[string]any{"n": 2e9, "in_dim": 3.0,
			"teacher": map[string]any{"widths": []any{3.0, 3.0}}}, "n"},
		{"model", "mlp", map[string]any{"widths": []any{3.0, 1e20, 1.0}}, "widths"},
		{"erm", "erm", map[string]any{"dataset": dataRef(), "model": fixtureModel(), "steps": 1e20}, "steps"},
	}
	for _, tc := range cases {
		_, errs := Registry{}.Normalize(tc.blockType, tc.kind, tc.attrs)
		if len(errs) != 1 || errs[0].Attr != tc.attr {
			t.Errorf("%s %s: errors %v, want one at %s", tc.blockType, tc.kind, fieldErrors(errs), tc.attr)
		}
	}
}

func TestFileDatasetLogListsHashes(t *testing.T) {
	dir := testdataDir(t)
	params := normalizeIn(t, dir, "dataset", "npy", map[string]any{"x_path": "x_fortran.npy", "y_path": "y.npy"})
	k, _ := Lookup("dataset", "npy")
	var log bytes.Buffer
	rc := &RunContext{Key: "data", RunID: "data", Params: params, Dir: t.TempDir(), Log: &log}
	if err := k.Run(context.Background(), rc); err != nil {
		t.Fatal(err)
	}
	for _, attr := range []string{"x", "y"} {
		want := fmt.Sprintf("%s: %s\n", filepath.Join(dir, attr+"_fortran.npy"), params[attr+"_content_sha256"])
		if attr == "y" {
			want = fmt.Sprintf("%s: %s\n", filepath.Join(dir, "y.npy"), params["y_content_sha256"])
		}
		if !strings.Contains(log.String(), want) {
			t.Errorf("log %q, want the line %q", log.String(), want)
		}
	}
	if strings.Contains(log.String(), "map[") {
		t.Errorf("log %q prints a Go map", log.String())
	}
}

func TestCrossEntropyNeedsClasses(t *testing.T) {
	dir := testdataDir(t)
	s := newTestStore(t)
	params := normalizeIn(t, dir, "dataset", "npz", map[string]any{"path": "labels.npz"})
	s.runNormalized(t, "dataset", "npz", "data", params, nil)
	_, err := s.tryRun("erm", "erm", "fit", map[string]any{
		"model": map[string]any{"kind": "mlp", "depth": 1.0, "width": 5.0},
		"loss":  "cross_entropy", "steps": 5.0,
	}, map[string]string{"dataset": "data"})
	if err == nil || !strings.Contains(err.Error(), "set classes = K") {
		t.Errorf("error = %v, want one saying to set classes = K", err)
	}
}

// A table read with the wrong delimiter has one column. The error leads
// with that and the delimiter to set, not with y_columns.
func TestCSVOneColumnNamesDelimiter(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "semi.csv", "a;b;c;y\n1;2;3;4\n5;6;7;8\n")
	e := normalizeErr(t, dir, "dataset", "csv", map[string]any{"path": "semi.csv"})
	if e.Attr != "delimiter" {
		t.Errorf("error at %q, want delimiter", e.Attr)
	}
	want := `Every row reads as one column, which leaves none for X. The first line contains no "," but contains ";", so set delimiter = ";".`
	if e.Detail != want {
		t.Errorf("detail\n%q\nwant\n%q", e.Detail, want)
	}
}

func TestCSVYColumnsCoverTable(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "d.csv", "a,b\n1,2\n")
	e := normalizeErr(t, dir, "dataset", "csv", map[string]any{"path": "d.csv", "y_columns": []any{0.0, 1.0}})
	want := "Y_columns names 2 of the table's 2 columns, but Y needs at least one column and X at least one other."
	if e.Attr != "y_columns" || e.Detail != want {
		t.Errorf("error %s: %q, want y_columns: %q", e.Attr, e.Detail, want)
	}
}

// safetensorsF64 returns a safetensors file of F64 tensors, each given by
// its shape and row-major values, in the order of names.
func safetensorsF64(t *testing.T, names []string, shapes [][]int, values [][]float64) []byte {
	t.Helper()
	var header strings.Builder
	var data bytes.Buffer
	header.WriteString("{")
	for i, name := range names {
		start := data.Len()
		for _, v := range values[i] {
			if err := binary.Write(&data, binary.LittleEndian, v); err != nil {
				t.Fatal(err)
			}
		}
		if i > 0 {
			header.WriteString(",")
		}
		shape := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(shapes[i])), ","), "[]")
		fmt.Fprintf(&header, `%q:{"dtype":"F64","shape":[%s],"data_offsets":[%d,%d]}`, name, shape, start, data.Len())
	}
	header.WriteString("}")
	var out bytes.Buffer
	if err := binary.Write(&out, binary.LittleEndian, uint64(header.Len())); err != nil {
		t.Fatal(err)
	}
	out.WriteString(header.String())
	out.Write(data.Bytes())
	return out.Bytes()
}

// A non-finite weight is named by its array and its index in that array.
func TestWeightsFileNonFiniteNamesArray(t *testing.T) {
	names := []string{"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"}
	shapes := [][]int{{4, 3}, {4}, {1, 4}, {1}}
	values := make([][]float64, len(names))
	for i, shape := range shapes {
		size := 1
		for _, s := range shape {
			size *= s
		}
		values[i] = make([]float64, size)
	}
	values[0][5] = math.Inf(1) // row 1, column 2 of the (4, 3) weight
	dir := t.TempDir()
	writeTestFile(t, dir, "w.safetensors", string(safetensorsF64(t, names, shapes, values)))

	e := normalizeErr(t, dir, "erm", "erm", map[string]any{
		"dataset": dataRef(), "model": fixtureModel(), "weights": "w.safetensors",
	})
	want := `Array "layers.0.weight" has +Inf at [1, 2]; weights must be finite.`
	if e.Attr != "weights" || e.Detail != want {
		t.Errorf("error %s: %q, want weights: %q", e.Attr, e.Detail, want)
	}
}

// An erm that starts from a weights file with steps = 0 trained nothing,
// so its warning about a w* that is no minimum must not say to train
// longer.
func TestNotMinimumAdviceForWeightsFile(t *testing.T) {
	dir := testdataDir(t)
	s := newTestStore(t)
	dataParams := normalizeIn(t, dir, "dataset", "npz", map[string]any{"path": "data.npz"})
	s.runNormalized(t, "dataset", "npz", "data", dataParams, nil)
	params := normalizeIn(t, dir, "erm", "erm", map[string]any{
		"dataset": dataRef(), "model": fixtureModel(), "weights": "weights.npz",
	})
	delete(params, "dataset")

	k, _ := Lookup("erm", "erm")
	var log bytes.Buffer
	rc := &RunContext{Key: "fit", RunID: "fit", Params: params, Inputs: map[string]string{"dataset": s.dir("data")},
		RunDir: s.dir, Dir: t.TempDir(), Log: &log}
	if err := k.Run(context.Background(), rc); err != nil {
		t.Fatal(err)
	}
	if res := readERMResult(t, rc.Dir); !res.NotMinimum {
		t.Fatalf("not_minimum = false with gradient norm %v, want the fixture weights to be no minimum", res.GradNorm)
	}
	if want := "set steps to train from the file's weights"; !strings.Contains(log.String(), want) {
		t.Errorf("log %q, want it to contain %q", log.String(), want)
	}
	if strings.Contains(log.String(), "train longer") {
		t.Errorf("log %q says to train longer, but nothing was trained", log.String())
	}
}

func TestNotMinimumAdvice(t *testing.T) {
	cases := []struct {
		name string
		p    ermParams
		want string
	}{
		{"trained", ermParams{Steps: 100}, "train longer"},
		{"trained from file", ermParams{Steps: 100, WeightsSHA256: "ab"}, "train longer"},
		{"file", ermParams{WeightsSHA256: "ab"}, "set steps to train from the file's weights"},
		{"teacher", ermParams{Init: "teacher"}, "set steps to train from the teacher's weights"},
		{"model init", ermParams{}, "nothing was trained, so set steps"},
	}
	for _, tc := range cases {
		if got := notMinimumAdvice(tc.p); !strings.Contains(got, tc.want) {
			t.Errorf("%s: advice %q, want it to contain %q", tc.name, got, tc.want)
		}
	}
}
