package dsl

import (
	"testing"
)

// BenchmarkLoadLargeSweep loads a sweep of 100 × 100 × 10 = 100,000 sampler
// nodes over 10,000 erm and 100 dataset nodes.
func BenchmarkLoadLargeSweep(b *testing.B) {
	src := []byte(`
sweep {
  seed  = range(100)
  width = range(1, 101)
  step  = [for i in range(10) : 1e-5 * (i + 1)]
}
dataset "d" {
  kind = "gauss"
  n    = 1000
  seed = sweep.seed
}
model "m" {
  kind   = "mlp"
  widths = [4, sweep.width, 1]
}
erm "fit" {
  dataset = dataset.d
  model   = model.m
}
sampler "s" {
  kind      = "sgld"
  erm       = erm.fit
  step_size = sweep.step
}
`)
	for b.Loop() {
		w, diags := loadSources([]source{{filename: "large.hcl", bytes: src}}, Options{Registry: fakeRegistry{}})
		if diags.HasErrors() {
			b.Fatal(diags)
		}
		if got := len(w.Defs); got != 100+10_000+100_000 {
			b.Fatalf("got %d nodes, want 110100", got)
		}
	}
}
