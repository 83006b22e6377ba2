package kinds

import (
	"strings"
	"testing"
)

// Teacher widths [4 100000 100000 1] once passed validate, and apply then
// allocated 80 GB for the teacher's weights. Each teacher is held to the
// limit of a student model of its widths, at the attribute that sets them.
func TestTeacherTooLarge(t *testing.T) {
	huge := []any{4.0, 100000.0, 100000.0, 1.0}
	cases := []struct {
		kind  string
		attrs map[string]any
		attr  string
		d     string
	}{
		{"teacher_student", map[string]any{"n": 100.0, "in_dim": 4.0,
			"teacher": map[string]any{"widths": huge, "activation": "tanh"}}, "teacher", "d = 10000500000"},
		{"teacher_student", map[string]any{"n": 100.0, "in_dim": 4.0,
			"teacher": map[string]any{"widths": huge, "activation": "tanh", "bias": true}}, "teacher", "d = 10000700001"},
		{"teacher_classification", map[string]any{"n": 100.0, "in_dim": 4.0,
			"teacher": map[string]any{"widths": huge}}, "teacher", "d = 10000500000"},
		{"linear_teacher", map[string]any{"n": 100.0, "widths": huge, "rank": 1.0}, "widths", "d = 10000500000"},
	}
	for _, tc := range cases {
		_, errs := Registry{}.Normalize("dataset", tc.kind, tc.attrs)
		if len(errs) != 1 {
			t.Errorf("%s: errors %v, want one", tc.kind, fieldErrors(errs))
			continue
		}
		e := errs[0]
		if e.Attr != tc.attr || e.Summary != "Model too large" {
			t.Errorf("%s: error %s: %s, want %s: Model too large", tc.kind, e.Attr, e.Summary, tc.attr)
		}
		for _, want := range []string{tc.d, "8 GiB"} {
			if !strings.Contains(e.Detail, want) {
				t.Errorf("%s: detail %q, want it to contain %q", tc.kind, e.Detail, want)
			}
		}
	}
}
