package models

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/llcflow/llcflow/samplers"
)

// flopsPerRow counts the floating-point operations of one row's LossGrad:
// 2·in·out per layer forward (one multiply and one add per weight) and
// twice that backward (weight gradient and input gradient). The first
// layer's input gradient is not computed, so this overstates the work by
// 2·in·out for layer 1 and the reported rate is an upper estimate.
func flopsPerRow(widths []int) float64 {
	f := 0.0
	for l := 1; l < len(widths); l++ {
		f += 3 * 2 * float64(widths[l-1]*widths[l])
	}
	return f
}

// BenchmarkGemmNT times gemmNT alone on the products of a 32-303-1 MLP's
// 64-row block (forward z = a·Wᵀ and weight gradient δᵀ·a) and on square
// shapes, on the selected kernels and on the portable code.
func BenchmarkGemmNT(b *testing.B) {
	shapes := [][3]int{{64, 303, 32}, {303, 32, 64}, {64, 64, 64}, {256, 256, 256}}
	for _, path := range []string{"simd", "portable"} {
		for _, s := range shapes {
			m, n, k := s[0], s[1], s[2]
			b.Run(fmt.Sprintf("%s/m=%d/n=%d/k=%d", path, m, n, k), func(b *testing.B) {
				if path == "portable" {
					saved := useSIMD
					useSIMD = false
					defer func() { useSIMD = saved }()
				}
				x := make([]float64, m*k)
				y := make([]float64, n*k)
				c := make([]float64, m*n)
				for i := range x {
					x[i] = float64(i%13) - 6
				}
				for i := range y {
					y[i] = float64(i%7) - 3
				}
				b.ReportAllocs()
				for b.Loop() {
					gemmNT(m, n, k, x, y, c, true)
				}
				perOp := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(2*float64(m*n*k)/perOp/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkDenseForwardBackward times the forward and backward pass of
// one 64-row block of a 32-303-1 MLP with the identity activation, so the
// rate is that of the dense kernels with their transposes and packing.
func BenchmarkDenseForwardBackward(b *testing.B) {
	widths := []int{32, 303, 1}
	m, err := NewMLP(widths, "identity", true)
	if err != nil {
		b.Fatal(err)
	}
	net := newNetwork(m)
	for i := range net.acts[0] {
		net.acts[0][i] = float64(i%17)/17 - 0.5
	}
	w := make([]float64, m.NumParams())
	for i := range w {
		w[i] = float64(i%11)/55 - 0.1
	}
	g := make([]float64, len(w))
	b.ReportAllocs()
	for b.Loop() {
		net.forward(w, blockRows)
		copy(net.grad, net.output(blockRows))
		net.prepareBackward(w)
		net.backward(blockRows, g)
	}
	perOp := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(flopsPerRow(widths)*blockRows/perOp/1e9, "GFLOP/s")
}

func BenchmarkLossGrad(b *testing.B) {
	cases := []struct {
		widths      []int
		n, batch    int
		activations []string
	}{
		{[]int{4, 16, 1}, 1024, 256, []string{"relu", "tanh", "gelu"}},
		{[]int{32, 303, 1}, 1024, 256, []string{"relu", "tanh", "gelu"}},
		{[]int{32, 303, 1}, 20000, 0, []string{"relu"}},
	}
	for _, tc := range cases {
		for _, act := range tc.activations {
			name := fmt.Sprintf("%v/%s/n=%d/batch=%d", tc.widths, act, tc.n, tc.batch)
			b.Run(name, func(b *testing.B) {
				m, err := NewMLP(tc.widths, act, true)
				if err != nil {
					b.Fatal(err)
				}
				pot, w := benchRegression(b, m, tc.n)
				ev := pot.NewEvaluator()
				grad := make([]float64, len(w))
				var batch []int
				rows := tc.n
				if tc.batch > 0 {
					rows = tc.batch
					batch = make([]int, tc.batch)
					for i := range batch {
						batch[i] = (i * 37) % tc.n
					}
				}
				b.ReportAllocs()
				for b.Loop() {
					ev.LossGrad(w, batch, grad)
				}
				perOp := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(flopsPerRow(tc.widths)*float64(rows)/perOp/1e9, "GFLOP/s")
			})
		}
	}
}

// benchRegression returns the mean-squared-error potential of m on n
// fixed rows, and a parameter vector to evaluate it at.
func benchRegression(b *testing.B, m *MLP, n int) (samplers.Potential, []float64) {
	b.Helper()
	x := make([]float64, n*m.Widths[0])
	y := make([]float64, n*m.Widths[len(m.Widths)-1])
	for i := range x {
		x[i] = float64(i%17)/17 - 0.5
	}
	for i := range y {
		y[i] = float64(i%5) / 5
	}
	reg, err := NewRegression(m, x, y, n, "mse")
	if err != nil {
		b.Fatal(err)
	}
	w := make([]float64, m.NumParams())
	for i := range w {
		w[i] = float64(i%11)/55 - 0.1
	}
	return reg, w
}

// runSGLD runs SGLD on pot from w with the full-data loss evaluated once
// at the end, so the time is that of the steps.
func runSGLD(b *testing.B, pot samplers.Potential, w []float64, chains, parallel, batch, steps int) {
	b.Helper()
	cfg := samplers.SGLDConfig{
		Common: samplers.Common{
			Chains: chains, NBeta: 100, Gamma: 100, Seed: "bench", Parallel: parallel,
		},
		StepSize:  1e-6,
		BatchSize: batch,
		Steps:     steps,
		EvalEvery: steps,
	}
	if _, err := samplers.SGLD(context.Background(), pot, w, cfg); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSGLDStep reports the time of one SGLD step (minibatch gradient
// and update) of one chain. Each op is 1000 steps plus two full-data
// losses (at w* and at the last draw), about 0.4 % of the op at n = 1024.
func BenchmarkSGLDStep(b *testing.B) {
	const steps = 1000
	for _, widths := range [][]int{{4, 16, 1}, {32, 303, 1}} {
		for _, act := range []string{"relu", "tanh", "gelu"} {
			m, err := NewMLP(widths, act, true)
			if err != nil {
				b.Fatal(err)
			}
			name := fmt.Sprintf("d=%d/%s/batch=256", m.NumParams(), act)
			b.Run(name, func(b *testing.B) {
				pot, w := benchRegression(b, m, 1024)
				b.ReportAllocs()
				for b.Loop() {
					runSGLD(b, pot, w, 1, 1, 256, steps)
				}
				perStep := b.Elapsed().Seconds() / float64(b.N) / steps
				b.ReportMetric(perStep*1e6, "µs/step")
			})
		}
	}
}

// BenchmarkSGLDChains runs two chains of the d = 10,303 relu MLP one at a
// time and on two goroutines. The ratio of the two steps/s metrics is the
// speed-up of the second core.
func BenchmarkSGLDChains(b *testing.B) {
	const steps = 500
	m, err := NewMLP([]int{32, 303, 1}, "relu", true)
	if err != nil {
		b.Fatal(err)
	}
	pot, w := benchRegression(b, m, 1024)
	for _, parallel := range []int{1, 2} {
		b.Run(fmt.Sprintf("chains=2/parallel=%d", parallel), func(b *testing.B) {
			for b.Loop() {
				runSGLD(b, pot, w, 2, parallel, 256, steps)
			}
			perOp := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(2*steps/perOp, "steps/s")
		})
	}
}

// BenchmarkRRREstimate times the SGLD part of one LLC estimate of
// reduced-rank regression 5-3-5 (a linear network without biases) on
// n = 1000 rows: 3 chains × 2000 full-batch draws on the machine's cores.
func BenchmarkRRREstimate(b *testing.B) {
	m, err := NewMLP([]int{5, 3, 5}, "identity", false)
	if err != nil {
		b.Fatal(err)
	}
	pot, w := benchRegression(b, m, 1000)
	for b.Loop() {
		runSGLD(b, pot, w, 3, 0, 0, 2000)
	}
}

// BenchmarkSGLDMillionSteps runs 10⁶ SGLD steps of the d = 97 relu MLP
// recording 1000 draws, for measuring the peak RSS of a long run with the
// test binary (go test -c -o /tmp/models.test ./models/):
//
//	LLCFLOW_LONG=1 /usr/bin/time -f "%M KB" /tmp/models.test \
//	    -test.run '^$' -test.bench SGLDMillionSteps -test.benchtime 1x
func BenchmarkSGLDMillionSteps(b *testing.B) {
	if os.Getenv("LLCFLOW_LONG") == "" {
		b.Skip("set LLCFLOW_LONG=1 to run 10⁶ steps")
	}
	m, err := NewMLP([]int{4, 16, 1}, "relu", true)
	if err != nil {
		b.Fatal(err)
	}
	pot, w := benchRegression(b, m, 1024)
	for b.Loop() {
		cfg := samplers.SGLDConfig{
			Common:    samplers.Common{Chains: 1, NBeta: 100, Gamma: 100, Seed: "bench"},
			StepSize:  1e-6,
			BatchSize: 256,
			Steps:     1_000_000,
			EvalEvery: 1000,
		}
		if _, err := samplers.SGLD(context.Background(), pot, w, cfg); err != nil {
			b.Fatal(err)
		}
	}
}
