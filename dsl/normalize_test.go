package dsl

import (
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
)

// countingRegistry counts the calls of Normalize.
type countingRegistry struct {
	fakeRegistry
	calls *atomic.Int64
}

func (r countingRegistry) Normalize(typ, kind string, attrs map[string]any) (map[string]any, []FieldError) {
	r.calls.Add(1)
	return r.fakeRegistry.Normalize(typ, kind, attrs)
}

// TestNormalizeReuseGivesSameDefs loads the example sweeps with and without
// the reuse of Normalize results and compares the node definitions.
func TestNormalizeReuseGivesSameDefs(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			load := func(reuse bool) ([]any, int64) {
				reuseAcrossInstances = reuse
				defer func() { reuseAcrossInstances = true }()
				var calls atomic.Int64
				w, _ := Load([]string{path}, Options{Registry: countingRegistry{calls: &calls}})
				var defs []any
				for _, d := range w.Defs {
					defs = append(defs, d)
				}
				return defs, calls.Load()
			}
			with, reused := load(true)
			without, all := load(false)
			if !reflect.DeepEqual(with, without) {
				t.Errorf("the definitions differ with reuse:\n%v\nwithout:\n%v", with, without)
			}
			if reused > all {
				t.Errorf("Normalize was called %d times with reuse and %d without", reused, all)
			}
			t.Logf("%d of %d Normalize calls reused", all-reused, all)
		})
	}
}
