package samplers_test

import (
	"context"
	"testing"

	"github.com/llcflow/llcflow/models"
	"github.com/llcflow/llcflow/rng"
	"github.com/llcflow/llcflow/samplers"
)

// Benchmarks of one gradient of the MLP loss and one step of each sampler,
// at the quick example's model (widths [4, 16, 1], tanh, d = 97) and at a
// model with d ≈ 10,000 ([16, 128, 64, 1], d = 10,497), both on n = 1000
// points. Run them with
//
//	go test -run '^$' -bench . -benchtime 2s ./samplers/
//
// Each reports GFLOP/s from 6·rows·W floating-point operations per
// gradient, with W the number of weights and rows the batch size: 2·rows·W
// for the forward matrix products and 4·rows·W for the backward ones.
// Activations and the samplers' own vector updates are not counted.

type benchModel struct {
	name   string
	widths []int
	// batch is the SGLD minibatch size, the quick example's 256.
	batch int
}

var benchModels = []benchModel{
	{"quick d=97", []int{4, 16, 1}, 256},
	{"d=10497", []int{16, 128, 64, 1}, 256},
}

const benchN = 1000

// benchPotential returns the tanh MLP regression potential on benchN
// random points and random weights.
func benchPotential(b *testing.B, widths []int) (samplers.Potential, []float64, int) {
	b.Helper()
	mlp, err := models.NewMLP(widths, "tanh", true)
	if err != nil {
		b.Fatal(err)
	}
	r := rng.New("bench", "data", 0)
	in, out := widths[0], widths[len(widths)-1]
	x := make([]float64, benchN*in)
	y := make([]float64, benchN*out)
	r.FillNorm(x)
	r.FillNorm(y)
	reg, err := models.NewRegression(mlp, x, y, benchN, "mse")
	if err != nil {
		b.Fatal(err)
	}
	w := make([]float64, mlp.NumParams())
	if err := mlp.Init(w, r, "he"); err != nil {
		b.Fatal(err)
	}
	weights := 0
	for i := 1; i < len(widths); i++ {
		weights += widths[i] * widths[i-1]
	}
	return reg, w, weights
}

// reportFlops reports GFLOP/s for gradients of rows rows per operation.
func reportFlops(b *testing.B, gradientsPerOp float64, rows, weights int) {
	flops := gradientsPerOp * 6 * float64(rows) * float64(weights) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}

func BenchmarkMLPGradient(b *testing.B) {
	for _, m := range benchModels {
		b.Run(m.name, func(b *testing.B) {
			pot, w, weights := benchPotential(b, m.widths)
			eval := pot.NewEvaluator()
			grad := make([]float64, len(w))
			b.ReportAllocs()
			for b.Loop() {
				eval.LossGrad(w, nil, grad)
			}
			reportFlops(b, 1, benchN, weights)
		})
	}
}

func benchCommon() samplers.Common {
	return samplers.Common{Chains: 1, NBeta: benchN / 6.9, Gamma: 1, Seed: "bench"}
}

// BenchmarkSGLDStep runs one chain for b.N minibatch steps, recording the
// full-data loss every 1000th step.
func BenchmarkSGLDStep(b *testing.B) {
	for _, m := range benchModels {
		b.Run(m.name, func(b *testing.B) {
			pot, w, weights := benchPotential(b, m.widths)
			cfg := samplers.SGLDConfig{Common: benchCommon(), StepSize: 1e-6,
				BatchSize: m.batch, Steps: b.N, EvalEvery: min(1000, b.N)}
			b.ReportAllocs()
			b.ResetTimer()
			if _, err := samplers.SGLD(context.Background(), pot, w, cfg); err != nil {
				b.Fatal(err)
			}
			reportFlops(b, 1, m.batch, weights)
		})
	}
}

// BenchmarkHMCStep runs one chain for b.N transitions of one full-batch
// leapfrog step each, at a fixed step size without warmup.
func BenchmarkHMCStep(b *testing.B) {
	for _, m := range benchModels {
		b.Run(m.name, func(b *testing.B) {
			pot, w, weights := benchPotential(b, m.widths)
			cfg := samplers.HMCConfig{Common: benchCommon(), StepSize: 1e-4, LeapfrogSteps: 1,
				Draws: b.N}
			b.ReportAllocs()
			b.ResetTimer()
			if _, err := samplers.HMC(context.Background(), pot, w, cfg); err != nil {
				b.Fatal(err)
			}
			reportFlops(b, 1, benchN, weights)
		})
	}
}

// BenchmarkMCLMCStep runs one chain for b.N McLachlan steps (two
// full-batch gradients each) at a given L and ε, so without tuning.
func BenchmarkMCLMCStep(b *testing.B) {
	for _, m := range benchModels {
		b.Run(m.name, func(b *testing.B) {
			pot, w, weights := benchPotential(b, m.widths)
			cfg := samplers.MCLMCConfig{Common: benchCommon(), Integrator: "mclachlan",
				L: 1, StepSize: 1e-4, Draws: b.N}
			b.ReportAllocs()
			b.ResetTimer()
			if _, err := samplers.MCLMC(context.Background(), pot, w, cfg); err != nil {
				b.Fatal(err)
			}
			reportFlops(b, 2, benchN, weights)
		})
	}
}
