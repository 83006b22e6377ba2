package detmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// tanhInputs returns values around every boundary of Tanh's cases and of
// Exp's reduction, special values, and random values of all magnitudes.
func tanhInputs() []float64 {
	xs := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(),
		math.Float64frombits(0x7ff8000000000123), math.Float64frombits(0xfff0000000000001),
		5e-324, math.SmallestNonzeroFloat64 * 3, math.MaxFloat64, 1, 0.5, 710, 1e300}
	for _, edge := range []float64{tanhTiny, tanhSmall, tanhOne, 1, 2, 10} {
		v := edge
		for range 4 {
			v = math.Nextafter(v, 0)
		}
		for range 9 {
			xs = append(xs, v)
			v = math.Nextafter(v, math.Inf(1))
		}
	}
	// Points where 2|x|·128/ln2 is a half-integer, so the reduction's
	// rounding of m changes.
	for m := 70; m < 7400; m += 37 {
		x := (float64(m) + 0.5) * math.Ln2 / 128 / 2
		xs = append(xs, x, math.Nextafter(x, 0), math.Nextafter(x, 1))
	}
	r := rand.New(rand.NewPCG(11, 12))
	for range 20000 {
		xs = append(xs, (r.Float64()*2-1)*25)
	}
	for range 5000 {
		xs = append(xs, (r.Float64()-0.5)*math.Ldexp(1, r.IntN(80)-60))
	}
	n := len(xs)
	for i := range n {
		xs = append(xs, -xs[i])
	}
	return xs
}

// TestTanhSliceMatchesTanh compares TanhSlice with Tanh bit for bit, NaN
// payloads included, on every input of tanhInputs and on every slice
// length up to 17 so that each tail length occurs.
func TestTanhSliceMatchesTanh(t *testing.T) {
	xs := tanhInputs()
	got := make([]float64, len(xs))
	TanhSlice(got, xs)
	for i, x := range xs {
		if want := Tanh(x); math.Float64bits(got[i]) != math.Float64bits(want) {
			t.Fatalf("TanhSlice(%v) [bits %#x] = %#x, Tanh %#x", x, math.Float64bits(x),
				math.Float64bits(got[i]), math.Float64bits(want))
		}
	}
	for n := 0; n <= 17; n++ {
		dst := make([]float64, n+1)
		dst[n] = 7
		TanhSlice(dst[:n], xs[100:100+n])
		for i := range n {
			if want := Tanh(xs[100+i]); math.Float64bits(dst[i]) != math.Float64bits(want) {
				t.Fatalf("n=%d: dst[%d] = %v, want %v", n, i, dst[i], want)
			}
		}
		if dst[n] != 7 {
			t.Fatalf("n=%d: TanhSlice wrote past len(x)", n)
		}
	}
}

func TestTanhSliceAllocatesNothing(t *testing.T) {
	x := make([]float64, 1024)
	dst := make([]float64, 1024)
	if allocs := testing.AllocsPerRun(100, func() { TanhSlice(dst, x) }); allocs != 0 {
		t.Fatalf("TanhSlice allocates %v times per call, want 0", allocs)
	}
}

func BenchmarkTanhSlice(b *testing.B) {
	x := make([]float64, 1024)
	for i := range x {
		x[i] = float64(i-512) / 100
	}
	dst := make([]float64, len(x))
	for _, path := range []string{"simd", "scalar"} {
		b.Run(path, func(b *testing.B) {
			if path == "scalar" {
				saved := useSIMD
				useSIMD = false
				defer func() { useSIMD = saved }()
			}
			for b.Loop() {
				TanhSlice(dst, x)
			}
		})
	}
}
