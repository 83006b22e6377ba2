package models

import (
	"math"
	"math/rand/v2"
	"testing"
)

// kernelValues fills v with values whose magnitudes span 2^−30..2^30 and
// whose signs vary, so that summing the same products in another order
// changes the last bits of most sums.
func kernelValues(r *rand.Rand, v []float64) {
	for i := range v {
		v[i] = (r.Float64() - 0.5) * math.Ldexp(1, r.IntN(61)-30)
	}
}

// withPortable runs f with the SIMD kernels switched off.
func withPortable(f func()) {
	saved := useSIMD
	useSIMD = false
	defer func() { useSIMD = saved }()
	f()
}

// gemmShapes lists (m, n, k): every small shape, so that each ragged edge
// of rows (m mod 4), columns (n mod 16 and n mod 4) and terms (k mod 4)
// occurs, and the shapes of a 32-303-1 MLP on blocks of 64 rows.
func gemmShapes() [][3]int {
	var shapes [][3]int
	for m := 1; m <= 9; m++ {
		for n := 1; n <= 37; n++ {
			for _, k := range []int{0, 1, 2, 3, 4, 5, 7, 8, 13} {
				shapes = append(shapes, [3]int{m, n, k})
			}
		}
	}
	return append(shapes,
		[3]int{64, 303, 32}, [3]int{64, 1, 303}, [3]int{1, 303, 64},
		[3]int{64, 303, 1}, [3]int{303, 32, 64}, [3]int{63, 35, 300},
		[3]int{0, 5, 3}, [3]int{5, 0, 3})
}

func TestGemmNTSIMDMatchesPortableBits(t *testing.T) {
	if !useSIMD {
		t.Skip("this CPU has no AVX-512F; gemmNT is the portable code")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range gemmShapes() {
		m, n, k := s[0], s[1], s[2]
		x := make([]float64, m*k)
		y := make([]float64, n*k)
		c0 := make([]float64, m*n)
		kernelValues(r, x)
		kernelValues(r, y)
		kernelValues(r, c0)
		for _, accumulate := range []bool{false, true} {
			got := append([]float64(nil), c0...)
			want := append([]float64(nil), c0...)
			gemmNT(m, n, k, x, y, got, accumulate)
			withPortable(func() { gemmNT(m, n, k, x, y, want, accumulate) })
			for i := range want {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("m=%d n=%d k=%d accumulate=%v: C[%d][%d] = %x, portable %x",
						m, n, k, accumulate, i/n, i%n, got[i], want[i])
				}
			}
		}
	}
}

// TestKernelValuesDetectOrder shows that the bit comparison above can
// fail: on these values, summing each tile element in dotGo's order
// instead of from p = 0 up changes the bits of most elements.
func TestKernelValuesDetectOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const k = 32
	x := make([]float64, k)
	y := make([]float64, k)
	differ := 0
	const trials = 100
	for range trials {
		kernelValues(r, x)
		kernelValues(r, y)
		s := 0.0
		for p := range x {
			s += float64(x[p] * y[p])
		}
		if math.Float64bits(s) != math.Float64bits(dotGo(x, y)) {
			differ++
		}
	}
	if differ < trials/2 {
		t.Fatalf("%d of %d sums changed with the order, want at least half", differ, trials)
	}
}

// TestGemmNTSpecialValues checks that signed zeros, infinities and NaNs
// come out of both paths alike.
func TestGemmNTSpecialValues(t *testing.T) {
	const m, n, k = 6, 21, 9
	special := []float64{0, math.Copysign(0, -1), 1, -1, math.Inf(1), math.Inf(-1), math.NaN(), 5e-324}
	x := make([]float64, m*k)
	y := make([]float64, n*k)
	for i := range x {
		x[i] = special[i%len(special)]
	}
	for i := range y {
		y[i] = special[(i*3+1)%len(special)]
	}
	got := make([]float64, m*n)
	want := make([]float64, m*n)
	gemmNT(m, n, k, x, y, got, false)
	withPortable(func() { gemmNT(m, n, k, x, y, want, false) })
	for i := range want {
		same := math.Float64bits(got[i]) == math.Float64bits(want[i]) ||
			(math.IsNaN(got[i]) && math.IsNaN(want[i]))
		if !same {
			t.Fatalf("C[%d][%d] = %v, portable %v", i/n, i%n, got[i], want[i])
		}
	}
}

// halfSquareLoss runs the network on its block and returns ½ Σ a_L², whose
// gradient with respect to a_L is a_L itself.
func halfSquareLoss(net *network, w []float64, rows int) float64 {
	net.forward(w, rows)
	s := 0.0
	for _, v := range net.output(rows) {
		s += v * v / 2
	}
	return s
}

// TestNetworkGradientMatchesFiniteDifferences checks the backward pass that
// runs on the selected kernels against central differences
//
//	∂L/∂w_i ≈ (L(w + h e_i) − L(w − h e_i)) / 2h,
//
// whose error is O(h²) plus rounding O(ε·L/h); with h = 1e−5 both stay
// below 1e−6 relative to the gradient's scale.
func TestNetworkGradientMatchesFiniteDifferences(t *testing.T) {
	for _, act := range []string{"tanh", "gelu", "identity"} {
		t.Run(act, func(t *testing.T) {
			m, err := NewMLP([]int{5, 19, 6, 2}, act, true)
			if err != nil {
				t.Fatal(err)
			}
			net := newNetwork(m)
			const rows = 7
			r := rand.New(rand.NewPCG(5, 6))
			for i := range net.acts[0][:rows*5] {
				net.acts[0][i] = r.NormFloat64()
			}
			w := make([]float64, m.NumParams())
			for i := range w {
				w[i] = r.NormFloat64() * 0.5
			}

			halfSquareLoss(net, w, rows)
			copy(net.grad, net.output(rows))
			net.prepareBackward(w)
			g := make([]float64, len(w))
			net.backward(rows, g)

			scale := 0.0
			for _, v := range g {
				scale = max(scale, math.Abs(v))
			}
			const h = 1e-5
			for i := range w {
				saved := w[i]
				w[i] = saved + h
				up := halfSquareLoss(net, w, rows)
				w[i] = saved - h
				down := halfSquareLoss(net, w, rows)
				w[i] = saved
				fd := (up - down) / (2 * h)
				if math.Abs(fd-g[i]) > 1e-6*scale {
					t.Errorf("∂L/∂w[%d] = %g, finite difference %g", i, g[i], fd)
				}
			}
		})
	}
}

func TestGemmNTAllocatesNothing(t *testing.T) {
	const m, n, k = 64, 303, 32
	x := make([]float64, m*k)
	y := make([]float64, n*k)
	c := make([]float64, m*n)
	gemmNT(m, n, k, x, y, c, false)
	allocs := testing.AllocsPerRun(100, func() { gemmNT(m, n, k, x, y, c, true) })
	if allocs != 0 {
		t.Fatalf("gemmNT allocates %v times per call, want 0", allocs)
	}
}

// reluValues returns n values that mix signed zeros, infinities, NaNs,
// subnormals and ordinary numbers of both signs.
func reluValues(r *rand.Rand, n int) []float64 {
	special := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(),
		5e-324, -5e-324, 1, -1}
	v := make([]float64, n)
	kernelValues(r, v)
	for i := range v {
		if r.IntN(3) == 0 {
			v[i] = special[r.IntN(len(special))]
		}
	}
	return v
}

func sameBits(a, b []float64) int {
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestReluKernelsMatchPortableBits compares addBiasRelu and reluMask on
// the selected kernels with the portable loops on every row width up to
// 37 (so each tail length of the 8-lane chunks occurs), with and without
// a bias, including signed zeros and NaNs.
func TestReluKernelsMatchPortableBits(t *testing.T) {
	if !useSIMD {
		t.Skip("this CPU has no AVX-512F; the relu loops are the portable code")
	}
	r := rand.New(rand.NewPCG(7, 8))
	for n := 1; n <= 37; n++ {
		for _, rows := range []int{0, 1, 3, 64} {
			z0 := reluValues(r, rows*n)
			b := reluValues(r, n)
			for _, bias := range [][]float64{b, nil} {
				gotZ, wantZ := append([]float64(nil), z0...), append([]float64(nil), z0...)
				gotA, wantA := make([]float64, rows*n+1), make([]float64, rows*n+1)
				addBiasRelu(gotZ, bias, gotA[:rows*n])
				addBiasReluGo(wantZ, bias, wantA[:rows*n])
				if i := sameBits(gotZ, wantZ); i >= 0 {
					t.Fatalf("n=%d rows=%d bias=%v: z[%d] = %x, portable %x",
						n, rows, bias != nil, i, gotZ[i], wantZ[i])
				}
				if i := sameBits(gotA, wantA); i >= 0 {
					t.Fatalf("n=%d rows=%d bias=%v: a[%d] = %#x, portable %#x",
						n, rows, bias != nil, i, math.Float64bits(gotA[i]), math.Float64bits(wantA[i]))
				}
			}

			g0 := reluValues(r, rows*n+1)
			got, want := append([]float64(nil), g0...), append([]float64(nil), g0...)
			reluMask(got[:rows*n], z0)
			reluMaskGo(want[:rows*n], z0)
			if i := sameBits(got, want); i >= 0 {
				t.Fatalf("n=%d rows=%d: masked g[%d] = %x, portable %x", n, rows, i, got[i], want[i])
			}
		}
	}
}

// TestWeightGradSIMDMatchesPortableBits compares weightGrad, which reads A
// and B in place, with the portable transposes and gemmNTGo on every small
// shape of gemmShapes read as (m, n, k), including the bias sums.
func TestWeightGradSIMDMatchesPortableBits(t *testing.T) {
	if !useSIMD {
		t.Skip("this CPU has no AVX-512F; weightGrad is the portable code")
	}
	r := rand.New(rand.NewPCG(9, 10))
	shapes := append(gemmShapes(), [3]int{303, 32, 64}, [3]int{1, 303, 64}, [3]int{16, 4, 64},
		[3]int{1, 16, 64}, [3]int{17, 21, 61})
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		a := make([]float64, k*m)
		b := make([]float64, k*n)
		c0 := make([]float64, m*n)
		db0 := make([]float64, m)
		kernelValues(r, a)
		kernelValues(r, b)
		kernelValues(r, c0)
		kernelValues(r, db0)
		at := make([]float64, k*m)
		bt := make([]float64, k*n)

		got, want := append([]float64(nil), c0...), append([]float64(nil), c0...)
		gotDB, wantDB := append([]float64(nil), db0...), append([]float64(nil), db0...)
		weightGrad(m, n, k, a, b, gotDB, got, at, bt)
		weightGradGo(m, n, k, a, b, wantDB, want, at, bt)
		if i := sameBits(got, want); i >= 0 {
			t.Fatalf("m=%d n=%d k=%d: C[%d][%d] = %x, portable %x", m, n, k, i/n, i%n, got[i], want[i])
		}
		if i := sameBits(gotDB, wantDB); i >= 0 {
			t.Fatalf("m=%d n=%d k=%d: db[%d] = %x, portable %x", m, n, k, i, gotDB[i], wantDB[i])
		}

		got = append(got[:0], c0...)
		weightGrad(m, n, k, a, b, nil, got, at, bt)
		if i := sameBits(got, want); i >= 0 {
			t.Fatalf("m=%d n=%d k=%d without db: C[%d][%d] = %x, portable %x",
				m, n, k, i/n, i%n, got[i], want[i])
		}
	}
}
