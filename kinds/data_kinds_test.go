package kinds

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/npy"
)

func teacherStudentAttrs() map[string]any {
	return map[string]any{
		"n": 120.0, "in_dim": 3.0,
		"teacher": map[string]any{"widths": []any{3.0, 4.0, 1.0}, "activation": "tanh"},
	}
}

func TestDatasetOptionsFollowChoice(t *testing.T) {
	attrs := teacherStudentAttrs()
	attrs["x_dist"] = "gauss_aniso"
	attrs["noise"] = map[string]any{"kind": "hetero"}
	params, errs := Registry{}.Normalize("dataset", "teacher_student", attrs)
	if len(errs) > 0 {
		t.Fatal(fieldErrors(errs))
	}
	if params["cov_decay"] != 0.8 {
		t.Errorf("cov_decay = %v, want the gauss_aniso default 0.8", params["cov_decay"])
	}
	if _, ok := params["components"]; ok {
		t.Errorf("components = %v, want it absent for gauss_aniso", params["components"])
	}
	noise := params["noise"].(map[string]any)
	if noise["hetero"] != 1.0 {
		t.Errorf("noise.hetero = %v, want the default 1", noise["hetero"])
	}
	if _, ok := noise["df"]; ok {
		t.Errorf("noise.df = %v, want it absent for hetero noise", noise["df"])
	}
}

func TestDatasetRejectsOptionOfOtherChoice(t *testing.T) {
	attrs := teacherStudentAttrs()
	attrs["cov_decay"] = 0.5
	attrs["noise"] = map[string]any{"kind": "gauss", "df": 3.0}
	_, errs := Registry{}.Normalize("dataset", "teacher_student", attrs)
	if len(errs) != 2 {
		t.Fatalf("errors = %v, want two", fieldErrors(errs))
	}
	if errs[0].Attr != "cov_decay" || !strings.Contains(errs[0].Detail, `x_dist = "gauss_aniso"`) {
		t.Errorf("first error = %+v, want one on cov_decay naming gauss_aniso", errs[0])
	}
	if errs[1].Attr != "noise" || !strings.Contains(errs[1].Detail, `noise.kind = "student_t"`) {
		t.Errorf("second error = %+v, want one on noise naming student_t", errs[1])
	}
}

func TestLatentDimDefaultFitsInDim(t *testing.T) {
	attrs := teacherStudentAttrs()
	attrs["in_dim"] = 1.0
	attrs["teacher"] = map[string]any{"widths": []any{1.0, 4.0, 1.0}}
	attrs["x_dist"] = "lowdim_manifold"
	params, errs := Registry{}.Normalize("dataset", "teacher_student", attrs)
	if len(errs) > 0 {
		t.Fatal(fieldErrors(errs))
	}
	if params["latent_dim"] != 1.0 {
		t.Errorf("latent_dim = %v for in_dim 1, want 1", params["latent_dim"])
	}
}

func TestDatasetRejectsLatentDimAboveInDim(t *testing.T) {
	attrs := teacherStudentAttrs()
	attrs["x_dist"] = "lowdim_manifold"
	attrs["latent_dim"] = 5.0
	_, errs := Registry{}.Normalize("dataset", "teacher_student", attrs)
	if len(errs) != 1 || errs[0].Attr != "latent_dim" {
		t.Fatalf("errors = %v, want one on latent_dim", fieldErrors(errs))
	}
}

// TestEveryInputAndNoiseRuns runs the teacher_student kind once for every
// input distribution and noise kind, with their default options.
func TestEveryInputAndNoiseRuns(t *testing.T) {
	s := newTestStore(t)
	for _, dist := range []string{"gauss_iso", "gauss_aniso", "mixture", "lowdim_manifold", "heavy_tail"} {
		for _, noise := range []string{"gauss", "hetero", "student_t", "outliers"} {
			attrs := teacherStudentAttrs()
			attrs["x_dist"] = dist
			attrs["noise"] = map[string]any{"kind": noise}
			dir := s.run(t, "dataset", "teacher_student", dist+"-"+noise, attrs, nil)
			if _, err := loadDataset(dir); err != nil {
				t.Errorf("%s/%s: %v", dist, noise, err)
			}
		}
	}
}

func classificationAttrs(outputs float64) map[string]any {
	return map[string]any{
		"n": 300.0, "in_dim": 2.0, "logit_scale": 3.0,
		"teacher": map[string]any{"widths": []any{2.0, 6.0, outputs}, "activation": "tanh"},
	}
}

func readERMResult(t *testing.T, dir string) ermResult {
	t.Helper()
	var res ermResult
	if err := readJSON(filepath.Join(dir, "result.json"), &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestClassificationERM trains a softmax and a logistic student. Accuracy
// must appear in result.json and curve.csv and rise during training, and
// loadTrained must rebuild the potential whose loss at w* is final_loss,
// bit for bit.
func TestClassificationERM(t *testing.T) {
	cases := []struct {
		loss    string
		outputs float64
	}{{"cross_entropy", 3}, {"logistic", 1}}
	for _, tc := range cases {
		t.Run(tc.loss, func(t *testing.T) {
			s := newTestStore(t)
			dataDir := s.run(t, "dataset", "teacher_classification", "data", classificationAttrs(tc.outputs), nil)
			dataRes, err := readDatasetResult(dataDir)
			if err != nil {
				t.Fatal(err)
			}
			if want := max(2, int(tc.outputs)); dataRes.Classes != want {
				t.Errorf("classes = %d, want %d", dataRes.Classes, want)
			}
			dir := s.run(t, "erm", "erm", "fit", map[string]any{
				"model": map[string]any{"kind": "mlp", "widths": []any{2.0, 6.0, tc.outputs}, "activation": "tanh", "bias": true, "init": "he"},
				"loss":  tc.loss, "steps": 300.0, "log_every": 50.0,
			}, map[string]string{"dataset": "data"})

			res := readERMResult(t, dir)
			acc, ok := res.Accuracy.(float64)
			if !ok || acc < 0 || acc > 1 {
				t.Fatalf("accuracy = %v, want a fraction", res.Accuracy)
			}
			if res.Loss.Kind != tc.loss {
				t.Errorf("result loss = %+v, want %s", res.Loss, tc.loss)
			}
			curve, err := os.ReadFile(filepath.Join(dir, fileCurve))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(curve)), "\n")
			if lines[0] != "step,loss,accuracy" || len(lines) != 8 {
				t.Fatalf("curve.csv = %q, want a header with accuracy and 7 rows", curve)
			}
			first := strings.Split(lines[1], ",")
			last := strings.Split(lines[len(lines)-1], ",")
			if last[2] != fmtFloat(acc) {
				t.Errorf("last curve accuracy %s, result accuracy %v", last[2], acc)
			}
			if first[2] >= last[2] {
				t.Errorf("accuracy went from %s to %s, want training to raise it", first[2], last[2])
			}

			tm, err := loadTrained(dir, s.dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := tm.pot.NewEvaluator().Loss(tm.wStar); got != res.FinalLoss {
				t.Errorf("loss of the loaded potential at w* = %v, final_loss %v", got, res.FinalLoss)
			}
		})
	}
}

func TestReadDatasetRejectsLabels(t *testing.T) {
	s := newTestStore(t)
	dir := s.run(t, "dataset", "teacher_classification", "data", classificationAttrs(3), nil)
	if _, _, _, _, _, err := readDataset(dir); err == nil || !strings.Contains(err.Error(), "class labels") {
		t.Errorf("readDataset of class labels: error = %v, want one about class labels", err)
	}
}

func TestModelWidthsFromDepth(t *testing.T) {
	cases := []struct {
		model map[string]any
		want  []int
	}{
		{map[string]any{"kind": "mlp", "depth": 2.0, "width": 5.0, "activation": "tanh", "bias": true, "init": "he"}, []int{3, 5, 5, 1}},
		// [3, 16, 1] with biases has 3·16 + 16 + 16 + 1 = 81 parameters.
		{map[string]any{"kind": "mlp", "depth": 1.0, "target_params": 81.0, "activation": "tanh", "bias": true, "init": "he"}, []int{3, 16, 1}},
	}
	for _, tc := range cases {
		s := newTestStore(t)
		s.run(t, "dataset", "teacher_student", "data", teacherStudentAttrs(), nil)
		dir := s.run(t, "erm", "erm", "fit", map[string]any{"model": tc.model, "steps": 3.0},
			map[string]string{"dataset": "data"})
		res := readERMResult(t, dir)
		if !equalInts(res.Model.Widths, tc.want) {
			t.Errorf("model %v: widths %v, want %v", tc.model, res.Model.Widths, tc.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestModelRejectsMixedForms(t *testing.T) {
	cases := []map[string]any{
		{"widths": []any{3.0, 1.0}, "depth": 2.0},
		{"depth": 2.0},
		{"depth": 2.0, "width": 3.0, "target_params": 40.0},
		{},
	}
	for _, attrs := range cases {
		if _, errs := (Registry{}).Normalize("model", "mlp", attrs); len(errs) == 0 {
			t.Errorf("model %v normalized, want an error", attrs)
		}
	}
}

func TestLossOptions(t *testing.T) {
	ref := dsl.Ref{Type: "dataset", Name: "d", Address: "dataset.d"}
	params, errs := Registry{}.Normalize("erm", "erm", map[string]any{"dataset": ref, "model": linearModel(2, 1), "loss": "student_t"})
	if len(errs) > 0 {
		t.Fatal(fieldErrors(errs))
	}
	if params["loss_df"] != 4.0 || params["loss_scale"] != 1.0 {
		t.Errorf("student_t options = %v, %v, want the defaults 4 and 1", params["loss_df"], params["loss_scale"])
	}
	_, errs = Registry{}.Normalize("erm", "erm", map[string]any{"dataset": ref, "model": linearModel(2, 1), "loss_df": 3.0})
	if len(errs) != 1 || errs[0].Attr != "loss_df" {
		t.Errorf("loss_df with mse: errors = %v, want one on loss_df", fieldErrors(errs))
	}
	implicit, _ := Registry{}.Normalize("erm", "erm", map[string]any{"dataset": ref, "model": linearModel(2, 1)})
	explicit, _ := Registry{}.Normalize("erm", "erm", map[string]any{"dataset": ref, "model": linearModel(2, 1),
		"loss": "mse", "weight_decay": 0.0, "init": "model"})
	if a, b := canonical(t, implicit), canonical(t, explicit); a != b {
		t.Errorf("explicit defaults give params %s, implicit %s, want equal", b, a)
	}
}

// canonical returns the canonical encoding of params without their
// references, which the DSL turns into input edges.
func canonical(t *testing.T, params map[string]any) string {
	t.Helper()
	plain := map[string]any{}
	for k, v := range params {
		if _, ref := v.(dsl.Ref); !ref {
			plain[k] = v
		}
	}
	data, err := graph.Canonical(plain)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestNumCheckpointsBecomesSteps(t *testing.T) {
	ref := dsl.Ref{Type: "dataset", Name: "d", Address: "dataset.d"}
	byCount, errs := Registry{}.Normalize("erm", "erm", map[string]any{"dataset": ref, "model": linearModel(2, 1),
		"steps": 100.0, "num_checkpoints": 4.0})
	if len(errs) > 0 {
		t.Fatal(fieldErrors(errs))
	}
	byList, errs := Registry{}.Normalize("erm", "erm", map[string]any{"dataset": ref, "model": linearModel(2, 1),
		"steps": 100.0, "checkpoints": []any{100.0, 25.0, 75.0, 50.0, 50.0}})
	if len(errs) > 0 {
		t.Fatal(fieldErrors(errs))
	}
	if a, b := canonical(t, byCount), canonical(t, byList); a != b {
		t.Errorf("num_checkpoints = 4 gives %s, the list %s, want equal", a, b)
	}
	_, errs = Registry{}.Normalize("erm", "erm", map[string]any{"dataset": ref, "model": linearModel(2, 1),
		"steps": 10.0, "checkpoints": []any{20.0}})
	if len(errs) != 1 || errs[0].Attr != "checkpoints" {
		t.Errorf("checkpoint after the last step: errors = %v, want one on checkpoints", fieldErrors(errs))
	}
}

func TestCheckpointERMArguments(t *testing.T) {
	from := dsl.Ref{Type: "erm", Name: "fit", Address: "erm.fit"}
	ref := dsl.Ref{Type: "dataset", Name: "d", Address: "dataset.d"}
	cases := []struct {
		name  string
		attrs map[string]any
		attr  string
	}{
		{"no checkpoint", map[string]any{"from": from}, "from"},
		{"training setting", map[string]any{"from": from, "checkpoint": 5.0, "steps": 10.0}, "steps"},
		{"dataset", map[string]any{"from": from, "checkpoint": 5.0, "dataset": ref}, "dataset"},
		{"checkpoint without from", map[string]any{"dataset": ref, "model": linearModel(2, 1), "checkpoint": 5.0}, "checkpoint"},
	}
	for _, tc := range cases {
		_, errs := Registry{}.Normalize("erm", "erm", tc.attrs)
		if len(errs) != 1 || errs[0].Attr != tc.attr {
			t.Errorf("%s: errors = %v, want one on %s", tc.name, fieldErrors(errs), tc.attr)
		}
	}
	params, errs := Registry{}.Normalize("erm", "erm", map[string]any{"from": from, "checkpoint": 5.0})
	if len(errs) > 0 {
		t.Fatal(fieldErrors(errs))
	}
	if len(params) != 2 {
		t.Errorf("checkpoint erm params = %v, want only from and checkpoint", params)
	}
}

func trainingAttrs(steps float64, checkpoints []any) map[string]any {
	attrs := map[string]any{
		"model": map[string]any{"kind": "mlp", "widths": []any{3.0, 5.0, 1.0}, "activation": "tanh", "bias": true, "init": "he"},
		"steps": steps, "weight_decay": 0.01,
	}
	if checkpoints != nil {
		attrs["checkpoints"] = checkpoints
	}
	return attrs
}

// TestCheckpointERMMatchesShorterTraining checks that the checkpoint erm
// at step k has the weights of a training run stopped at k, bit for bit,
// both at a saved step and between saved steps, and at the last step.
func TestCheckpointERMMatchesShorterTraining(t *testing.T) {
	s := newTestStore(t)
	s.run(t, "dataset", "teacher_student", "data", teacherStudentAttrs(), nil)
	s.run(t, "erm", "erm", "fit", trainingAttrs(40, []any{10.0, 25.0}), map[string]string{"dataset": "data"})

	for _, k := range []float64{0, 10, 30, 40} {
		dir := s.run(t, "erm", "erm", "at"+fmtFloat(k), map[string]any{"checkpoint": k}, map[string]string{"from": "fit"})

		// The same run id is the same key, so the same initial weights.
		other := newTestStore(t)
		other.run(t, "dataset", "teacher_student", "data", teacherStudentAttrs(), nil)
		want := other.run(t, "erm", "erm", "fit", trainingAttrs(k, nil), map[string]string{"dataset": "data"})

		_, got, err := npy.Read(filepath.Join(dir, fileWeights))
		if err != nil {
			t.Fatal(err)
		}
		_, ref, err := npy.Read(filepath.Join(want, fileWeights))
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(ref[i]) {
				t.Fatalf("checkpoint %v: w[%d] = %v, training stopped at that step %v", k, i, got[i], ref[i])
			}
		}
		res := readERMResult(t, dir)
		if res.Checkpoint == nil || *res.Checkpoint != int(k) || res.TrainedRunID != "fit" || res.Steps != int(k) {
			t.Errorf("checkpoint %v: result checkpoint %v, trained_run_id %q, steps %d", k, res.Checkpoint, res.TrainedRunID, res.Steps)
		}
		if refRes := readERMResult(t, want); res.FinalLoss != refRes.FinalLoss {
			t.Errorf("checkpoint %v: final_loss %v, training stopped there %v", k, res.FinalLoss, refRes.FinalLoss)
		}
	}
}

func TestCheckpointERMNeedsSavedState(t *testing.T) {
	s := newTestStore(t)
	s.run(t, "dataset", "teacher_student", "data", teacherStudentAttrs(), nil)
	s.run(t, "erm", "erm", "fit", trainingAttrs(20, nil), map[string]string{"dataset": "data"})
	_, err := s.tryRun("erm", "erm", "at", map[string]any{"checkpoint": 5.0}, map[string]string{"from": "fit"})
	if err == nil || !strings.Contains(err.Error(), "saved no training state") {
		t.Errorf("error = %v, want one saying no state was saved", err)
	}
	_, err = s.tryRun("erm", "erm", "late", map[string]any{"checkpoint": 25.0}, map[string]string{"from": "fit"})
	if err == nil || !strings.Contains(err.Error(), "after the last training step 20") {
		t.Errorf("error = %v, want one naming the last step", err)
	}
}
