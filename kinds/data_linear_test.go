package kinds

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/npy"
)

func linearModel(widths ...float64) map[string]any {
	ws := make([]any, len(widths))
	for i, w := range widths {
		ws[i] = w
	}
	return map[string]any{"kind": "mlp", "widths": ws, "activation": "identity", "bias": false, "init": "he"}
}

func linearDataset(widths []any, rank float64) map[string]any {
	return map[string]any{"n": 200.0, "widths": widths, "rank": rank}
}

func TestLinearTeacherResult(t *testing.T) {
	s := newTestStore(t)
	dir := s.run(t, "dataset", "linear_teacher", "rrr", linearDataset([]any{5.0, 3.0, 4.0}, 2), nil)
	res, err := readDatasetResult(dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.TrueRank == nil || *res.TrueRank != 2 {
		t.Errorf("true_rank = %v, want 2", res.TrueRank)
	}
	if res.Teacher == nil || len(res.Teacher.Widths) != 3 || res.Teacher.Activation != "identity" || res.Teacher.Bias {
		t.Fatalf("teacher = %+v, want widths [5 3 4], identity, no bias", res.Teacher)
	}
	if res.InDim != 5 || res.OutDim != 4 || res.N != 200 || res.TeacherParams != 5*3+3*4 {
		t.Errorf("result = %+v, want in_dim 5, out_dim 4, n 200, 27 teacher parameters", res)
	}
	x, y, n, in, out, err := readDataset(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != 200 || in != 5 || out != 4 || len(x) != 1000 || len(y) != 800 {
		t.Errorf("dataset shapes n=%d in=%d out=%d, want 200, 5, 4", n, in, out)
	}
}

// TestERMAtTeacher starts an erm at the teacher with zero steps, so w* is
// the teacher and the noise-free loss is exactly 0, and checks lambda_true
// against the tables of reduced-rank regression and deep linear networks.
func TestERMAtTeacher(t *testing.T) {
	// λ is reported only where w* is a most singular true parameter: the
	// most singular teacher form, or a generic teacher whose factors all
	// have rank r anyway (r equal to the smallest width).
	cases := []struct {
		name         string
		teacher      []any
		rank         float64
		form         string
		model        map[string]any
		lambda       any
		multiplicity any
	}{
		{"rrr 2-2-2 r=1 generic", []any{2.0, 2.0, 2.0}, 1, "", linearModel(2, 2, 2), nil, nil},
		{"rrr 2-2-2 r=1", []any{2.0, 2.0, 2.0}, 1, "most_singular", linearModel(2, 2, 2), 2.0, 2.0}, // M + H + N + r odd
		{"rrr 10-5-10 r=3", []any{10.0, 5.0, 10.0}, 3, "most_singular", linearModel(10, 5, 10), 32.0, 1.0},
		{"rrr 3-3-3 r=3 generic", []any{3.0, 3.0, 3.0}, 3, "", linearModel(3, 3, 3), 4.5, 1.0},
		{"dln 3-3-3-3 r=1", []any{3.0, 3.0, 3.0, 3.0}, 1, "most_singular", linearModel(3, 3, 3, 3), 4.0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestStore(t)
			params := linearDataset(tc.teacher, tc.rank)
			if tc.form != "" {
				params["teacher_form"] = tc.form
			}
			dataDir := s.run(t, "dataset", "linear_teacher", "data", params, nil)
			dir := s.run(t, "erm", "erm", "fit", map[string]any{
				"model": tc.model, "steps": 0.0, "init": "teacher",
			}, map[string]string{"dataset": "data"})

			_, w, err := npy.Read(filepath.Join(dir, fileWeights))
			if err != nil {
				t.Fatal(err)
			}
			_, teacher, err := npy.Read(filepath.Join(dataDir, fileTeacher))
			if err != nil {
				t.Fatal(err)
			}
			if len(w) != len(teacher) {
				t.Fatalf("w* has %d values, teacher %d", len(w), len(teacher))
			}
			for i := range w {
				if math.Float64bits(w[i]) != math.Float64bits(teacher[i]) {
					t.Fatalf("w*[%d] = %v, teacher %v, want equal with zero steps", i, w[i], teacher[i])
				}
			}

			var res map[string]any
			if err := readJSON(filepath.Join(dir, "result.json"), &res); err != nil {
				t.Fatal(err)
			}
			if loss, _ := res["final_loss"].(float64); !(loss < 1e-20) {
				t.Errorf("final_loss = %v, want below 1e-20 at the teacher on noise-free data", res["final_loss"])
			}
			if res["init"] != "teacher" {
				t.Errorf("init = %v, want teacher", res["init"])
			}
			if res["lambda_true"] != tc.lambda {
				t.Errorf("lambda_true = %v, want %v", res["lambda_true"], tc.lambda)
			}
			if res["lambda_multiplicity"] != tc.multiplicity {
				t.Errorf("lambda_multiplicity = %v, want %v", res["lambda_multiplicity"], tc.multiplicity)
			}
		})
	}
}

func TestLambdaTrueNeedsRealizableLinearModel(t *testing.T) {
	cases := []struct {
		name  string
		model map[string]any
	}{
		{"hidden width below rank", linearModel(4, 1, 4)},
		{"tanh", map[string]any{"kind": "mlp", "widths": []any{4.0, 3.0, 4.0}, "activation": "tanh", "bias": false, "init": "he"}},
		{"bias", map[string]any{"kind": "mlp", "widths": []any{4.0, 3.0, 4.0}, "activation": "identity", "bias": true, "init": "he"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestStore(t)
			s.run(t, "dataset", "linear_teacher", "data", linearDataset([]any{4.0, 3.0, 4.0}, 2), nil)
			dir := s.run(t, "erm", "erm", "fit", map[string]any{"model": tc.model, "steps": 5.0},
				map[string]string{"dataset": "data"})
			var res map[string]any
			if err := readJSON(filepath.Join(dir, "result.json"), &res); err != nil {
				t.Fatal(err)
			}
			if res["lambda_true"] != nil {
				t.Errorf("lambda_true = %v, want null", res["lambda_true"])
			}
		})
	}
}

func TestERMTeacherInitRejectsOtherModel(t *testing.T) {
	s := newTestStore(t)
	s.run(t, "dataset", "linear_teacher", "data", linearDataset([]any{4.0, 3.0, 4.0}, 2), nil)
	_, err := s.tryRun("erm", "erm", "fit", map[string]any{
		"model": linearModel(4, 5, 4), "steps": 0.0, "init": "teacher",
	}, map[string]string{"dataset": "data"})
	if err == nil || !strings.Contains(err.Error(), "widths [4 5 4]") || !strings.Contains(err.Error(), "widths [4 3 4]") {
		t.Errorf("error = %v, want one naming the model's and the teacher's widths", err)
	}
}

func TestLinearTeacherRejectsRankAboveWidth(t *testing.T) {
	_, errs := Registry{}.Normalize("dataset", "linear_teacher", linearDataset([]any{4.0, 2.0, 4.0}, 3))
	if len(errs) != 1 || errs[0].Attr != "rank" {
		t.Fatalf("errors = %v, want one on rank", errs)
	}
	if !strings.Contains(errs[0].Detail, "smallest teacher width 2") {
		t.Errorf("detail = %q, want it to name the smallest width", errs[0].Detail)
	}
}

func TestERMInitModelIsTheDefault(t *testing.T) {
	base := map[string]any{"dataset": dsl.Ref{Type: "dataset", Name: "d", Address: "dataset.d"}, "model": linearModel(2, 2)}
	implicit, errs := Registry{}.Normalize("erm", "erm", base)
	if len(errs) > 0 {
		t.Fatal(fieldErrors(errs))
	}
	base["init"] = "model"
	explicit, errs := Registry{}.Normalize("erm", "erm", base)
	if len(errs) > 0 {
		t.Fatal(fieldErrors(errs))
	}
	a, _ := graph.Canonical(implicit)
	b, _ := graph.Canonical(explicit)
	if string(a) != string(b) {
		t.Errorf("params with init = \"model\" = %s, without init %s, want equal", b, a)
	}
}

// The most singular teacher keeps x and y and the teacher's product, and
// gives every factor rank r, so an erm at the teacher fits the noise-free
// data up to rounding.
func TestLinearTeacherMostSingular(t *testing.T) {
	widths := []any{3.0, 3.0, 3.0, 3.0}
	// The run id is the key that seeds the generator, so both runs use
	// "data", in two stores.
	generic := newTestStore(t).run(t, "dataset", "linear_teacher", "data",
		linearDataset(widths, 1), nil)
	attrs := linearDataset(widths, 1)
	attrs["teacher_form"] = teacherMostSingular
	s := newTestStore(t)
	singular := s.run(t, "dataset", "linear_teacher", "data", attrs, nil)

	for _, name := range []string{fileX, fileY} {
		if a, b := digest(t, generic, name), digest(t, singular, name); a != b {
			t.Errorf("%s differs between the generic and the most singular teacher", name)
		}
	}
	_, w, err := npy.Read(filepath.Join(singular, fileTeacher))
	if err != nil {
		t.Fatal(err)
	}
	// Each 3 × 3 factor of rank 1 is u·vᵀ, so its 2 × 2 minors vanish.
	for l := 0; l < 3; l++ {
		f := w[9*l : 9*l+9]
		for i := 0; i < 2; i++ {
			for j := 0; j < 2; j++ {
				minor := f[3*i+j]*f[3*(i+1)+j+1] - f[3*i+j+1]*f[3*(i+1)+j]
				if math.Abs(minor) > 1e-12 {
					t.Errorf("W_%d has the minor %g at (%d, %d), want rank 1", l+1, minor, i, j)
				}
			}
		}
	}

	dir := s.run(t, "erm", "erm", "fit", map[string]any{
		"model": linearModel(3, 3, 3, 3), "steps": 0.0, "init": "teacher",
	}, map[string]string{"dataset": "data"})
	var res map[string]any
	if err := readJSON(filepath.Join(dir, "result.json"), &res); err != nil {
		t.Fatal(err)
	}
	if loss, _ := res["final_loss"].(float64); !(loss < 1e-20) {
		t.Errorf("final_loss = %v at the most singular teacher, want below 1e-20", res["final_loss"])
	}
}

func TestLinearTeacherGenericFormIsTheDefault(t *testing.T) {
	implicit, errs := Registry{}.Normalize("dataset", "linear_teacher", linearDataset([]any{2.0, 2.0}, 1))
	if len(errs) > 0 {
		t.Fatal(fieldErrors(errs))
	}
	attrs := linearDataset([]any{2.0, 2.0}, 1)
	attrs["teacher_form"] = teacherGeneric
	explicit, errs := Registry{}.Normalize("dataset", "linear_teacher", attrs)
	if len(errs) > 0 {
		t.Fatal(fieldErrors(errs))
	}
	a, _ := graph.Canonical(implicit)
	b, _ := graph.Canonical(explicit)
	if string(a) != string(b) {
		t.Errorf("params with teacher_form = \"generic\" = %s, without it %s, want equal", b, a)
	}
}

func TestTeacherAtMostSingular(t *testing.T) {
	cases := []struct {
		widths []int
		rank   int
		form   string
		want   bool
	}{
		{[]int{3, 3, 3}, 1, "", false}, // generic W_2 has rank 3
		{[]int{3, 3, 3}, 1, teacherMostSingular, true},
		{[]int{3, 3, 3}, 3, "", true},     // r is the smallest width
		{[]int{5, 3, 2}, 2, "", true},     // W_2 is 2 × 3, of rank 2 = r
		{[]int{4, 2, 4}, 2, "", true},     // r is the smallest width
		{[]int{3, 3, 3, 3}, 1, "", false}, // W_2 and W_3 have rank 3
		{[]int{3, 3, 3, 3}, 0, "", false},
		{[]int{3, 3, 3, 3}, 0, teacherMostSingular, true},
		{[]int{4, 3}, 2, "", true}, // one matrix: every rank-2 point is alike
	}
	for _, tc := range cases {
		if got := teacherAtMostSingular(tc.widths, tc.rank, tc.form); got != tc.want {
			t.Errorf("teacherAtMostSingular(%v, %d, %q) = %v, want %v", tc.widths, tc.rank,
				tc.form, got, tc.want)
		}
	}
}
