package rng

import (
	"math"
	"testing"
)

// FillNorm must return Norm's numbers bit for bit, whatever the length of
// each call and whether a spare variate is pending, and leave the stream
// where Norm would.
func TestFillNormMatchesNorm(t *testing.T) {
	lengths := []int{0, 1, 2, 3, 5, 8, 127, 255, 256, 257, 1001, 2 * normChunk, 2*normChunk + 1}
	for _, lead := range []int{0, 1} {
		fill, norm := New("fill", "norm", 7), New("fill", "norm", 7)
		for i := 0; i < lead; i++ {
			fill.Norm()
			norm.Norm()
		}
		for _, n := range lengths {
			got := make([]float64, n)
			fill.FillNorm(got)
			for i, g := range got {
				if want := norm.Norm(); math.Float64bits(g) != math.Float64bits(want) {
					t.Fatalf("lead %d, length %d: value %d = %v, want %v", lead, n, i, g, want)
				}
			}
			if g, w := fill.Uint64(), norm.Uint64(); g != w {
				t.Fatalf("lead %d, length %d: next Uint64 = %d, want %d", lead, n, g, w)
			}
			if g, w := fill.Norm(), norm.Norm(); math.Float64bits(g) != math.Float64bits(w) {
				t.Fatalf("lead %d, length %d: next Norm = %v, want %v", lead, n, g, w)
			}
		}
	}
}

func TestFillNormAllocatesNothing(t *testing.T) {
	r := New("fill", "allocs", 0)
	dst := make([]float64, 1001)
	if allocs := testing.AllocsPerRun(10, func() { r.FillNorm(dst) }); allocs != 0 {
		t.Errorf("FillNorm allocates %g times per call, want 0", allocs)
	}
}

func BenchmarkFillNorm(b *testing.B) {
	r := New("fill", "bench", 0)
	dst := make([]float64, 10303)
	for b.Loop() {
		r.FillNorm(dst)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(dst)), "ns/value")
}

func BenchmarkNorm(b *testing.B) {
	r := New("fill", "bench", 0)
	dst := make([]float64, 10303)
	for b.Loop() {
		for i := range dst {
			dst[i] = r.Norm()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(dst)), "ns/value")
}

// polarFactors, on both paths, must equal √(−2·math.Log(s)/s) bit for bit
// at random s in (0, 1), at the reduction boundary √2/2, at powers of two
// and next to 1 and to the smallest s the polar method can draw (2⁻¹⁰⁴).
func TestPolarFactorsMatchMathLog(t *testing.T) {
	s := []float64{0x1p-104, 0x1p-104 * 1.5, 0x1p-53, 0.25, 0.5, math.Sqrt2 / 2,
		math.Nextafter(math.Sqrt2/2, 0), math.Nextafter(math.Sqrt2/2, 1), math.Nextafter(1, 0),
		math.Nextafter(0.5, 0), math.Nextafter(0.5, 1)}
	r := New("polar", "factors", 0)
	for len(s) < 4096 {
		if x := r.Float64(); x > 0 {
			s = append(s, x, x*x*x*x)
		}
	}
	simd := useSIMD
	defer func() { useSIMD = simd }()
	for _, on := range []bool{false, simd} {
		useSIMD = on
		f := make([]float64, len(s))
		polarFactors(s, f)
		for i, x := range s {
			want := math.Sqrt(-2 * math.Log(x) / x)
			if math.Float64bits(f[i]) != math.Float64bits(want) {
				t.Fatalf("SIMD %v: factor of s = %v is %v, want %v", on, x, f[i], want)
			}
		}
	}
}
