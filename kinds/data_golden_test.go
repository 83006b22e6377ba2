package kinds

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/graph"
)

// The digests pin small fixed-key outputs of the data and training kinds:
// a change of numbers without a version bump fails here. Update a digest
// only together with the kind's Version.

func TestTeacherStudentPinned(t *testing.T) {
	s := newTestStore(t)
	dir := s.run(t, "dataset", "teacher_student", "ts", map[string]any{
		"n": 50.0, "in_dim": 3.0,
		"teacher": map[string]any{"widths": []any{3.0, 4.0, 2.0}, "activation": "tanh"},
	}, nil)
	const want = "74b12b314de34b4324dad8ed4df9b18fdaace25a750210bd34a148b0663129cf"
	if got := digest(t, dir, "x.npy", "y.npy", "teacher.npy"); got != want {
		t.Errorf("teacher_student outputs digest = %s, want %s", got, want)
	}
}

func TestERMPinned(t *testing.T) {
	s := newTestStore(t)
	s.run(t, "dataset", "teacher_student", "ts", map[string]any{
		"n": 50.0, "in_dim": 3.0,
		"teacher": map[string]any{"widths": []any{3.0, 4.0, 2.0}, "activation": "tanh"},
	}, nil)
	dir := s.run(t, "erm", "erm", "fit", map[string]any{
		"model": map[string]any{"kind": "mlp", "widths": []any{3.0, 5.0, 2.0}, "activation": "tanh", "bias": true, "init": "he"},
		"steps": 40.0, "log_every": 10.0,
	}, map[string]string{"dataset": "ts"})
	const want = "6d5bb3a136fc0d1c4a99a351a73cab472165ca907228cb07aefa688eeee2bf47"
	if got := digest(t, dir, "weights.npy", "curve.csv"); got != want {
		t.Errorf("erm outputs digest = %s, want %s", got, want)
	}
}

// TestParamsOfEarlierBlocksPinned pins the normalized parameters, and so
// the keys, of blocks that use no option added since: new options are
// optional or filled in only where they apply, so cached runs stay valid.
func TestParamsOfEarlierBlocksPinned(t *testing.T) {
	cases := []struct {
		blockType, kind string
		attrs           map[string]any
		want            string
	}{
		{"dataset", "teacher_student", map[string]any{
			"n": 50.0, "in_dim": 3.0,
			"teacher": map[string]any{"widths": []any{3.0, 4.0, 2.0}, "activation": "tanh"},
		}, "9f763c688eb77da660544352527db252190284a581d34ed89239546839399424"},
		{"model", "mlp", map[string]any{"widths": []any{3.0, 5.0, 2.0}}, "961582e0caa40e0d59d2ff559dc78b7ccc086a029a240960fb5be0770b8f83c2"},
		{"erm", "erm", map[string]any{
			"dataset": dsl.Ref{Type: "dataset", Name: "d", Address: "dataset.d"},
			"model":   map[string]any{"kind": "mlp", "widths": []any{3.0, 5.0, 2.0}, "activation": "tanh", "bias": true, "init": "he"},
		}, "06f024f28951c70fe170e77577b2a78fd00f60d474255c30530255ae343f475f"},
	}
	for _, tc := range cases {
		params, errs := Registry{}.Normalize(tc.blockType, tc.kind, tc.attrs)
		if len(errs) > 0 {
			t.Fatalf("normalize %s %s: %v", tc.blockType, tc.kind, fieldErrors(errs))
		}
		delete(params, "dataset")
		data, err := graph.Canonical(params)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != tc.want {
			t.Errorf("%s %s params digest = %s, want %s\n%s", tc.blockType, tc.kind, got, tc.want, data)
		}
	}
}
