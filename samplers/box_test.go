package samplers

import (
	"math"
	"slices"
	"testing"
)

func TestWithBoxIntersectsBounds(t *testing.T) {
	inner := &boxedQuadratic{quadraticPotential: newQuadratic(1, 1),
		lower: []float64{-1, -0.5}, upper: []float64{1, 2}}
	lower, upper := UniformBox(2, -0.8, 0.8)
	boxed, err := WithBox(inner, lower, upper)
	if err != nil {
		t.Fatalf("WithBox: %v", err)
	}
	gotLo, gotHi := boxed.Bounds()
	if want := []float64{-0.8, -0.5}; !slices.Equal(gotLo, want) {
		t.Errorf("lower %v, want %v", gotLo, want)
	}
	if want := []float64{0.8, 0.8}; !slices.Equal(gotHi, want) {
		t.Errorf("upper %v, want %v", gotHi, want)
	}
	if boxed.Dim() != 2 || boxed.N() != 1 {
		t.Errorf("Dim, N = %d, %d, want those of the wrapped potential", boxed.Dim(), boxed.N())
	}
}

func TestWithBoxRejectsInvalidWalls(t *testing.T) {
	inner := &boxedQuadratic{quadraticPotential: newQuadratic(1),
		lower: []float64{0}, upper: []float64{1}}
	cases := map[string]struct {
		pot          Potential
		lower, upper []float64
	}{
		"wrong length":       {newQuadratic(1, 1), []float64{-1}, []float64{1}},
		"lower above upper":  {newQuadratic(1), []float64{1}, []float64{-1}},
		"infinite":           {newQuadratic(1), []float64{math.Inf(-1)}, []float64{1}},
		"empty intersection": {inner, []float64{-2}, []float64{-1}},
	}
	for name, tc := range cases {
		if _, err := WithBox(tc.pot, tc.lower, tc.upper); err == nil {
			t.Errorf("%s: WithBox accepted [%v, %v]", name, tc.lower, tc.upper)
		}
	}
}

func TestNewEfficiency(t *testing.T) {
	est := Estimate{ESSBulk: 400, LLCSE: 0.05}
	got := NewEfficiency(est, 2000)
	if got.ESSPerWork != 0.2 {
		t.Errorf("ESS per work %v, want 0.2", got.ESSPerWork)
	}
	// SE² · work = 0.0025 · 2000.
	if math.Abs(got.WNV-5) > 1e-12 {
		t.Errorf("WNV %v, want 5", got.WNV)
	}
	if zero := NewEfficiency(est, 0); !math.IsNaN(zero.ESSPerWork) || !math.IsNaN(zero.WNV) {
		t.Errorf("zero work gives %+v, want NaNs", zero)
	}
}
