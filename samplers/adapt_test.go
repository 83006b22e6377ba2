package samplers

import (
	"context"
	"math"
	"reflect"
	"testing"
)

func TestMassWindowsStanSchedule(t *testing.T) {
	cases := []struct {
		warmup int
		start  int
		ends   []int
	}{
		// Stan's defaults: windows of 25, 50, 100, 200 and the rest (500).
		{1000, 75, []int{99, 149, 249, 449, 949}},
		{500, 75, []int{99, 149, 249, 449}},
		{200, 75, []int{99, 149}},
		{150, 75, []int{99}},
		// Shorter than 75 + 25 + 50: 15 % initial and 10 % terminal buffer.
		{100, 15, []int{89}},
		{20, 3, []int{17}},
		// Shorter than 20: no mass adaptation.
		{19, 0, nil},
		{0, 0, nil},
	}
	for _, tc := range cases {
		start, ends := massWindows(tc.warmup)
		if start != tc.start {
			t.Errorf("warmup %d: first window starts at %d, want %d", tc.warmup, start, tc.start)
		}
		if !reflect.DeepEqual(ends, tc.ends) {
			t.Errorf("warmup %d: window ends %v, want %v", tc.warmup, ends, tc.ends)
		}
	}
}

func TestDualAveragingConvergesOnKnownCurve(t *testing.T) {
	// With the deterministic acceptance α(ε) = exp(−ε), the step size with
	// α = δ is ε* = −log δ. Dual averaging keeps log ε_m = μ − (√m/γ)·H̄_m
	// finite only if the mean of δ − α_t, H̄_m, is γ·(μ − log ε*)/√m, so
	// after m updates the acceptance at ε̄ still misses δ by about that
	// much. The test allows twice that gap.
	const m = 2000
	for _, delta := range []float64{0.6, 0.8, 0.95} {
		da := newDualAveraging(1, delta)
		eps := 1.0
		for range m {
			eps = da.update(math.Exp(-eps))
		}
		epsStar := -math.Log(delta)
		gap := dualAveragingGamma * math.Abs(da.mu-math.Log(epsStar)) / math.Sqrt(m)
		got := math.Exp(-da.final())
		t.Logf("δ = %g: ε̄ = %.5f (ε* = %.5f), α(ε̄) = %.4f, allowed gap %.4f", delta,
			da.final(), epsStar, got, 2*gap)
		if math.Abs(got-delta) > 2*gap {
			t.Errorf("δ = %g: α(ε̄) = %.4f, want within %.4f", delta, got, 2*gap)
		}
	}
}

func TestDualAveragingFirstUpdate(t *testing.T) {
	// One update with α = 0 from ε0 = 1: H̄_1 = δ/(1 + t0), log ε_1 =
	// log 10 − H̄_1/γ, and log ε̄_1 = log ε_1 because 1^{−κ} = 1.
	da := newDualAveraging(1, 0.8)
	got := da.update(0)
	want := math.Exp(math.Log(10) - 0.8/11/0.05)
	if math.Abs(got-want) > 1e-12*want {
		t.Errorf("ε_1 = %.15g, want %.15g", got, want)
	}
	if bar := da.final(); math.Abs(bar-want) > 1e-12*want {
		t.Errorf("ε̄_1 = %.15g, want %.15g", bar, want)
	}
}

func TestWelfordVarianceRegularized(t *testing.T) {
	v := newWelfordVariance(2)
	for _, x := range [][]float64{{1, 10}, {2, 10}, {3, 10}, {4, 10}, {5, 10}} {
		v.add(x)
	}
	got := make([]float64, 2)
	v.regularizedInto(got)
	// Sample variances 2.5 and 0 over n = 5 draws, shrunk by n/(n + 5)
	// toward 1e-3 with weight 5/(n + 5).
	want := []float64{0.5*2.5 + 0.5e-3, 0.5e-3}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Errorf("variance[%d] = %.17g, want %.17g", i, got[i], want[i])
		}
	}
	v.reset()
	if v.n != 0 || v.mean[0] != 0 || v.m2[0] != 0 {
		t.Errorf("reset left n = %d, mean %v, m2 %v", v.n, v.mean, v.m2)
	}
}

func TestMCLMCStepPredictorFindsTarget(t *testing.T) {
	// If ΔE = k·ε³ exactly, E[ΔE²]/d = target at ε* = (d·target/k²)^{1/6},
	// and the predictor reaches it from far above and far below.
	const d, target, k = 10, 5e-4, 3.0
	want := math.Pow(d*target/(k*k), 1.0/6)
	for _, start := range []float64{100 * want, want / 100} {
		p := newMCLMCStepPredictor(target, d)
		eps := start
		// The running averages decay by 149/151 per step, so after 2000
		// steps the starting point weighs less than 1e-11.
		for range 2000 {
			eps = p.update(eps, k*eps*eps*eps)
		}
		if math.Abs(eps-want) > 1e-3*want {
			t.Errorf("from ε = %.3g: got %.6g, want %.6g", start, eps, want)
		}
	}
}

func TestMCLMCStepPredictorRespectsCap(t *testing.T) {
	p := newMCLMCStepPredictor(5e-4, 10)
	p.epsMax = 0.01
	// ΔE = 0 at ε = 1 predicts ε = (10⁻⁸)^{−1/6} ≈ 21.5, above the cap.
	if got := p.update(1, 0); got != 0.01 {
		t.Errorf("got ε = %g, want the cap 0.01", got)
	}
}

func TestMCLMCMomentsWeighted(t *testing.T) {
	m := newMCLMCMoments(1)
	m.add([]float64{0}, 1)
	m.add([]float64{3}, 2)
	// Weighted mean 2 and variance (1·4 + 2·1)/3 = 2.
	if math.Abs(m.mean[0]-2) > 1e-15 {
		t.Errorf("mean = %g, want 2", m.mean[0])
	}
	if got := m.totalVariance(); math.Abs(got-2) > 1e-15 {
		t.Errorf("variance = %g, want 2", got)
	}
}

// adaptGaussian is the potential ½ Σ h_i w_i² with n = 1, local to these
// tests because the targets package imports samplers.
type adaptGaussian struct{ h []float64 }

func (g adaptGaussian) Dim() int                { return len(g.h) }
func (g adaptGaussian) N() int                  { return 1 }
func (g adaptGaussian) NewEvaluator() Evaluator { return g }

func (g adaptGaussian) Loss(w []float64) float64 {
	var k float64
	for i, h := range g.h {
		k += h * w[i] * w[i]
	}
	return k / 2
}

func (g adaptGaussian) LossGrad(w []float64, _ []int, grad []float64) float64 {
	for i, h := range g.h {
		grad[i] = h * w[i]
	}
	return g.Loss(w)
}

func TestHMCAcceptanceNearTarget(t *testing.T) {
	// Dual averaging alone (fixed identity mass matrix) on an
	// ill-conditioned 10-dimensional Gaussian. The draws use ε̄, a
	// weighted geometric mean of the adapted step sizes, and with a fixed
	// number of leapfrog steps the mean acceptance at ε̄ exceeds δ where
	// α is concave in log ε. That effect is small near the default
	// δ = 0.8 and grows at small δ, so 0.8 and 0.9 are tested.
	h := make([]float64, 10)
	for i := range h {
		h[i] = float64(i + 1)
	}
	pot := adaptGaussian{h: h}
	for _, delta := range []float64{0.8, 0.9} {
		cfg := DefaultHMCConfig()
		cfg.NBeta, cfg.Seed, cfg.InitNoise = 100, "hmc-accept", 0.01
		cfg.AdaptMass = false
		cfg.Warmup, cfg.Draws = 1000, 2000
		cfg.TargetAccept = delta
		run, err := HMC(context.Background(), pot, make([]float64, len(h)), cfg)
		if err != nil {
			t.Fatalf("HMC: %v", err)
		}
		for c, chain := range run.Chains {
			got := chain.Stats["acceptance_rate"]
			t.Logf("δ = %g, chain %d: acceptance %.3f at ε = %.4g", delta, c, got,
				chain.Stats["step_size"])
			if math.Abs(got-delta) > 0.05 {
				t.Errorf("δ = %g, chain %d: acceptance %.3f, want within 0.05", delta, c, got)
			}
		}
	}
}

func TestHMCMassMatrixLearnsVariances(t *testing.T) {
	// After warmup with mass adaptation, M⁻¹ estimates the posterior
	// variances 1/(nβ·h_i). Each window estimate has a relative standard
	// error of about √(2/n_eff). The last window has 500 draws, so a factor
	// 1.5 either way is a loose bound that a wrong estimator still fails.
	h := []float64{1, 4, 16, 64}
	pot := adaptGaussian{h: h}
	cfg := DefaultHMCConfig()
	cfg.NBeta, cfg.Seed, cfg.InitNoise, cfg.Warmup, cfg.Chains = 100, "hmc-mass", 0.01, 1000, 1
	chain := newHMCChain(pot, make([]float64, len(h)), &cfg, 0)
	if err := chain.run(context.Background()); err != nil {
		t.Fatalf("run: %v", err)
	}
	for i, hi := range h {
		want := 1 / (cfg.NBeta * hi)
		if got := chain.invMass[i]; got < want/1.5 || got > want*1.5 {
			t.Errorf("M⁻¹[%d] = %.4g, want %.4g within a factor 1.5", i, got, want)
		}
	}
}
