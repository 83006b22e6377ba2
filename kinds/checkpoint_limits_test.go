package kinds

import (
	"fmt"
	"strings"
	"testing"

	"github.com/llcflow/llcflow/dsl"
)

// normalizeERM normalizes a training erm of a 2-1 linear model with the
// given extra attributes.
func normalizeERM(attrs map[string]any) (map[string]any, []dsl.FieldError) {
	params := map[string]any{
		"dataset": dsl.Ref{Type: "dataset", Name: "d", Address: "dataset.d"},
		"model":   linearModel(2, 1),
	}
	for k, v := range attrs {
		params[k] = v
	}
	return Registry{}.Normalize("erm", "erm", params)
}

// num_checkpoints = 1e9 with steps = 1e9 once built a list of a billion
// steps before any check. It must be rejected from the count alone.
func TestNumCheckpointsLimit(t *testing.T) {
	cases := []struct {
		steps, count float64
		attr         string
	}{
		{1e5, maxCheckpoints, ""},
		{1e5, maxCheckpoints + 1, "num_checkpoints"},
		{1e9, 1e9, "num_checkpoints"},
		{100, 101, "num_checkpoints"},
	}
	for _, tc := range cases {
		_, errs := normalizeERM(map[string]any{"steps": tc.steps, "num_checkpoints": tc.count})
		if tc.attr == "" {
			if len(errs) != 0 {
				t.Errorf("steps %.0f, num_checkpoints %.0f: errors %v, want none", tc.steps, tc.count, fieldErrors(errs))
			}
			continue
		}
		if len(errs) != 1 {
			t.Errorf("steps %.0f, num_checkpoints %.0f: errors %v, want one", tc.steps, tc.count, fieldErrors(errs))
			continue
		}
		if errs[0].Attr != tc.attr {
			t.Errorf("steps %.0f, num_checkpoints %.0f: error at %q, want %q", tc.steps, tc.count, errs[0].Attr, tc.attr)
		}
	}
}

func TestCheckpointsListLimit(t *testing.T) {
	for _, n := range []int{maxCheckpoints, maxCheckpoints + 1} {
		list := make([]any, n)
		for i := range list {
			list[i] = float64(i + 1)
		}
		_, errs := normalizeERM(map[string]any{"steps": 1e5, "checkpoints": list})
		if tooMany := len(errs) > 0; tooMany != (n > maxCheckpoints) {
			t.Errorf("%d checkpoints: errors %v, want an error only above %d", n, fieldErrors(errs), maxCheckpoints)
		}
		if len(errs) > 0 && errs[0].Attr != "checkpoints" {
			t.Errorf("%d checkpoints: error at %q, want checkpoints", n, errs[0].Attr)
		}
	}
}

const checkpointSource = `
dataset "d" {
  kind    = "teacher_student"
  n       = 100
  in_dim  = 4
  teacher = { widths = [4, 3, 1] }
}
model "m" {
  kind   = "mlp"
  widths = [4, 1000, 1000, 1]
}
erm "e" {
  dataset         = dataset.d
  model           = model.m
  optimizer       = { kind = "OPTIMIZER" }
  steps           = 100000
  num_checkpoints = COUNT
}
`

// Adam saves three rows of d float64 per state and SGD one, at step 0 and
// at each checkpoint, so the largest count that fits maxCheckpointBytes is
// maxCheckpointBytes / (rows · d · 8) − 1.
func TestCheckGraphCheckpointBytes(t *testing.T) {
	d := sizeOfWidths([]int{4, 1000, 1000, 1}, true).params
	for _, tc := range []struct {
		optimizer string
		rows      float64
	}{{"adam", 3}, {"sgd", 1}} {
		limit := int(maxCheckpointBytes/(tc.rows*d*8)) - 1
		for _, count := range []int{limit, limit + 1} {
			src := strings.NewReplacer("OPTIMIZER", tc.optimizer, "COUNT", fmt.Sprint(count)).Replace(checkpointSource)
			errs := CheckGraph(loadGraph(t, src))
			if tooLarge := len(errs) > 0; tooLarge != (count > limit) {
				t.Errorf("%s, num_checkpoints = %d: errors %+v, want an error only above %d", tc.optimizer, count, errs, limit)
				continue
			}
			if len(errs) == 0 {
				continue
			}
			if errs[0].Address != "erm.e" || errs[0].Summary != "Checkpoints too large" {
				t.Errorf("%s, num_checkpoints = %d: error %s at %s, want Checkpoints too large at erm.e",
					tc.optimizer, count, errs[0].Summary, errs[0].Address)
			}
			if !strings.Contains(errs[0].Detail, "Lower num_checkpoints") {
				t.Errorf("detail %q, want it to name the fix", errs[0].Detail)
			}
		}
	}
}
