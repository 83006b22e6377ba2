package kinds

import "testing"

func TestRunsLocally(t *testing.T) {
	cases := []struct {
		typ, kind string
		params    map[string]any
		want      bool
	}{
		{"dataset", "npz", nil, true},
		{"dataset", "csv", nil, true},
		{"dataset", "teacher_student", nil, false},
		{"erm", "erm", map[string]any{"weights_sha256": "abc"}, true},
		{"erm", "erm", map[string]any{"steps": 10.0}, false},
		{"sampler", "sgld", nil, false},
	}
	for _, c := range cases {
		if got := RunsLocally(c.typ, c.kind, c.params); got != c.want {
			t.Errorf("RunsLocally(%s, %s, %v) = %v, want %v", c.typ, c.kind, c.params, got, c.want)
		}
	}
}
