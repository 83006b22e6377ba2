package diagnostics

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/llcflow/llcflow/rng"
)

// iidChains returns chains × draws independent N(mu[c], sd[c]²) draws.
func iidChains(seed string, chains, draws int, mu, sd []float64) [][]float64 {
	out := make([][]float64, chains)
	for c := range out {
		r := rng.New(seed, "iid", uint64(c))
		out[c] = make([]float64, draws)
		for i := range out[c] {
			out[c][i] = mu[c] + sd[c]*r.Norm()
		}
	}
	return out
}

// ar1Chains returns stationary Gaussian AR(1) chains x_t = ρ·x_{t−1} + ξ_t
// with ξ_t ~ N(0, 1), started from the stationary law N(0, 1/(1 − ρ²)).
func ar1Chains(seed string, chains, draws int, rho float64) [][]float64 {
	out := make([][]float64, chains)
	for c := range out {
		r := rng.New(seed, "ar1", uint64(c))
		out[c] = make([]float64, draws)
		x := r.Norm() / math.Sqrt(1-rho*rho)
		for i := range out[c] {
			out[c][i] = x
			x = rho*x + r.Norm()
		}
	}
	return out
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// essTolerance returns the half-width of a 4-standard-error band around
// an expected ESS. The truncated autocorrelation sum τ̂ over lags
// −K … K has, by Bartlett's approximation for lag-window spectral
// estimates at frequency 0, var(τ̂)/τ² ≈ 2(2K + 1)/S with S pooled draws,
// and ESS = S/τ has the same relative error to first order.
func essTolerance(expected float64, lag int, draws int) float64 {
	return 4 * expected * math.Sqrt(2*float64(2*lag+1)/float64(draws))
}

func TestESSIIDNormal(t *testing.T) {
	const chains, draws = 4, 5000
	x := iidChains("ess-iid", chains, draws, repeat(0, chains), repeat(1, chains))
	const total = chains * draws

	_, bulkLag := essGeyer(rankNormalize(splitChains(x)))
	_, meanLag := essGeyer(splitChains(x))
	cases := []struct {
		name string
		got  float64
		lag  int
	}{
		{"bulk", ESSBulk(x), bulkLag},
		{"mean", ESSMean(x), meanLag},
	}
	for _, tc := range cases {
		tol := essTolerance(total, tc.lag, total)
		if math.Abs(tc.got-total) > tol {
			t.Errorf("%s ESS = %.0f, want %d ± %.0f (Geyer lag %d)", tc.name, tc.got, total,
				tol, tc.lag)
		}
	}
}

// The indicator of an iid sequence is iid, so tail ESS ≈ S too. The
// quantile is estimated, which correlates the indicators only at order
// 1/S.
func TestESSTailIIDNormal(t *testing.T) {
	const chains, draws = 4, 5000
	x := iidChains("ess-tail-iid", chains, draws, repeat(0, chains), repeat(1, chains))
	const total = chains * draws
	for _, p := range []float64{0.05, 0.95} {
		split := splitChains(x)
		_, lag := essGeyer(indicatorChains(split, pooledQuantile(split, p)))
		got := ESSQuantile(x, p)
		if tol := essTolerance(total, lag, total); math.Abs(got-total) > tol {
			t.Errorf("ESS of the %g quantile = %.0f, want %d ± %.0f", p, got, total, tol)
		}
	}
	if got, want := ESSTail(x), math.Min(ESSQuantile(x, 0.05), ESSQuantile(x, 0.95)); got != want {
		t.Errorf("ESSTail = %v, want the smaller quantile ESS %v", got, want)
	}
}

// A Gaussian AR(1) with coefficient ρ has τ = (1 + ρ)/(1 − ρ), so
// ESS = S(1 − ρ)/(1 + ρ). Rank normalization maps its Gaussian marginal
// to itself up to sampling error, so bulk ESS has the same expectation.
func TestESSAR1(t *testing.T) {
	const chains, draws, rho = 4, 50000, 0.9
	x := ar1Chains("ess-ar1", chains, draws, rho)
	const total = chains * draws
	want := total * (1 - rho) / (1 + rho)

	_, bulkLag := essGeyer(rankNormalize(splitChains(x)))
	_, meanLag := essGeyer(splitChains(x))
	cases := []struct {
		name string
		got  float64
		lag  int
	}{
		{"bulk", ESSBulk(x), bulkLag},
		{"mean", ESSMean(x), meanLag},
	}
	for _, tc := range cases {
		tol := essTolerance(want, tc.lag, total)
		if math.Abs(tc.got-want) > tol {
			t.Errorf("%s ESS = %.0f, want %.0f ± %.0f (Geyer lag %d)", tc.name, tc.got, want,
				tol, tc.lag)
		}
	}
}

// mehlerWeights returns w_1 … w_terms of I(x ≤ q) for a standard normal
// x with p = Φ(q): by Mehler's formula the correlation of I(x ≤ q) and
// I(y ≤ q) for standard normals with correlation r is Σ_{j≥1} w_j r^j, with
// w_j = φ(q)²·He_{j−1}(q)²/(j!·p(1 − p)) and Σ_j w_j = 1.
func mehlerWeights(q float64, terms int) []float64 {
	p := 0.5 * math.Erfc(-q/math.Sqrt2)
	phi := math.Exp(-q*q/2) / math.Sqrt(2*math.Pi)
	w := make([]float64, terms+1)
	// h_n = He_n(q)/√(n!), by He_{n+1} = q·He_n − n·He_{n−1}.
	hPrev, h := 0.0, 1.0
	for j := 1; j <= terms; j++ {
		w[j] = phi * phi * h * h / (float64(j) * p * (1 - p))
		n := float64(j - 1)
		hPrev, h = h, (q*h-math.Sqrt(n)*hPrev)/math.Sqrt(n+1)
	}
	return w
}

// indicatorTau returns τ of I(x ≤ q) for a stationary Gaussian AR(1) with
// unit marginal variance and coefficient ρ, whose lag-k indicator
// correlation is Σ_j w_j ρ^{jk}. Because Σ_j w_j = 1,
// τ = 1 + 2·Σ_k Σ_j w_j ρ^{jk} = 1 + Σ_j w_j·2ρ^j/(1 − ρ^j), a series that
// converges geometrically.
func indicatorTau(q, rho float64) float64 {
	const terms = 500
	tau := 1.0
	for j, w := range mehlerWeights(q, terms) {
		if j == 0 {
			continue
		}
		rj := math.Pow(rho, float64(j))
		tau += w * 2 * rj / (1 - rj)
	}
	return tau
}

func TestESSTailAR1(t *testing.T) {
	const chains, draws, rho = 4, 50000, 0.9
	x := ar1Chains("ess-tail-ar1", chains, draws, rho)
	const total = chains * draws
	for _, p := range []float64{0.05, 0.95} {
		q := -math.Sqrt2 * math.Erfcinv(2*p)
		want := total / indicatorTau(q, rho)
		split := splitChains(x)
		_, lag := essGeyer(indicatorChains(split, pooledQuantile(split, p)))
		got := ESSQuantile(x, p)
		if tol := essTolerance(want, lag, total); math.Abs(got-want) > tol {
			t.Errorf("ESS of the %g quantile = %.0f, want %.0f ± %.0f (Geyer lag %d)",
				p, got, want, tol, lag)
		}
	}
}

// At the median, Sheppard's formula gives the indicator correlation
// (2/π)·arcsin r, which the Mehler series must reproduce.
func TestMehlerWeightsAtMedian(t *testing.T) {
	w := mehlerWeights(0, 20000)
	for _, r := range []float64{0.3, 0.9} {
		var got float64
		for j := 1; j < len(w); j++ {
			got += w[j] * math.Pow(r, float64(j))
		}
		if want := 2 / math.Pi * math.Asin(r); math.Abs(got-want) > 1e-6 {
			t.Errorf("indicator correlation at r = %g: series %v, Sheppard %v", r, got, want)
		}
	}
}

// Under identical iid chains, with M split chains of N draws,
// R̂² = (N − 1)/N + (B/W)/N where B/W is F(M − 1, M(N − 1)) distributed,
// close to χ²_{M−1}/(M − 1). The band is that law's 1e-4 and 1 − 1e-4
// quantiles.
func TestRHatIdenticalChains(t *testing.T) {
	const chains, draws = 4, 2000
	x := iidChains("rhat-same", chains, draws, repeat(0, chains), repeat(1, chains))
	m, n := 2.0*chains, float64(draws/2)
	chi := distuv.ChiSquared{K: m - 1}
	lower := math.Sqrt((n-1)/n + chi.Quantile(1e-4)/((m-1)*n))
	upper := math.Sqrt((n-1)/n + chi.Quantile(1-1e-4)/((m-1)*n))
	for name, got := range map[string]float64{
		"rank-normalized": RHat(x),
		"split":           SplitRHat(x),
	} {
		if got < lower || got > upper {
			t.Errorf("%s R̂ = %.5f, want in [%.5f, %.5f]", name, got, lower, upper)
		}
	}
}

func TestRHatShiftedMean(t *testing.T) {
	const chains, draws = 4, 2000
	x := iidChains("rhat-shift", chains, draws, []float64{0, 0, 0, 0.5}, repeat(1, chains))
	if got := RHat(x); got <= 1.01 {
		t.Errorf("R̂ = %.4f with one chain shifted by 0.5 sd, want > 1.01", got)
	}
}

// Chains with equal means but different scales leave the bulk R̂ near 1;
// the folded R̂ must catch them.
func TestRHatDifferentScale(t *testing.T) {
	const chains, draws = 4, 2000
	x := iidChains("rhat-scale", chains, draws, repeat(0, chains), []float64{1, 1, 1, 2})
	if got := RHat(x); got <= 1.01 {
		t.Errorf("R̂ = %.4f with one chain at twice the sd, want > 1.01", got)
	}
	if got := rhatBasic(rankNormalize(splitChains(x))); got > 1.01 {
		t.Errorf("bulk R̂ = %.4f for chains with equal means, want ≤ 1.01", got)
	}
}

func TestDegenerateInputs(t *testing.T) {
	oneChain := ar1Chains("edge", 1, 1000, 0.5)
	if got := ESSBulk(oneChain); math.IsNaN(got) || got <= 0 {
		t.Errorf("bulk ESS of one chain = %v, want a positive number", got)
	}
	if got := RHat(oneChain); math.IsNaN(got) {
		t.Errorf("R̂ of one chain = NaN, want a number from its two halves")
	}

	stuck := [][]float64{repeat(1, 100), repeat(2, 100)}
	if got := RHat(stuck); !math.IsInf(got, 1) {
		t.Errorf("R̂ of chains stuck at different values = %v, want +Inf", got)
	}

	short := [][]float64{{0.3, 1.2, -0.5, 2.0, 0.1, 0.7}, {1.1, -0.2, 0.4, 0.9, -1.3, 0.6}}
	if got := ESSTail(short); math.IsNaN(got) {
		t.Error("tail ESS of 2 chains of 6 varied draws = NaN, want a number")
	}

	withNaN := ar1Chains("edge-nan", 2, 100, 0.5)
	withNaN[1][7] = math.NaN()
	cases := map[string][][]float64{
		"empty":     nil,
		"3 draws":   {{1, 2, 3}, {2, 3, 4}},
		"constant":  {repeat(3, 50), repeat(3, 50)},
		"NaN draw":  withNaN,
		"no chains": {},
	}
	for name, x := range cases {
		for fn, got := range map[string]float64{
			"RHat":      RHat(x),
			"SplitRHat": SplitRHat(x),
			"ESSBulk":   ESSBulk(x),
			"ESSTail":   ESSTail(x),
			"ESSMean":   ESSMean(x),
		} {
			if !math.IsNaN(got) {
				t.Errorf("%s(%s) = %v, want NaN", fn, name, got)
			}
		}
	}
}

func TestUnequalLengthsPanic(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("ESSBulk of chains with 10 and 11 draws did not panic")
		}
	}()
	ESSBulk([][]float64{repeat(0, 10), repeat(0, 11)})
}

func TestOddLengthDropsMiddleDraw(t *testing.T) {
	x := [][]float64{{1, 2, 3, 4, 5}}
	split := splitChains(x)
	if len(split) != 2 || len(split[0]) != 2 || len(split[1]) != 2 {
		t.Fatalf("split of 5 draws = %v, want two halves of 2", split)
	}
	if split[0][1] != 2 || split[1][0] != 4 {
		t.Errorf("split of 1…5 = %v, want [[1 2] [4 5]]", split)
	}
}

func TestRankNormalizeTies(t *testing.T) {
	z := rankNormalize([][]float64{{1, 2, 2}, {3, 2, 0}})
	// Ranks: 0→1, 1→2, the three 2s share (3+4+5)/3 = 4, and 3→6. S = 6.
	want := func(rank float64) float64 { return normalQuantile((rank - 0.375) / 6.25) }
	if z[0][1] != want(4) || z[0][2] != want(4) || z[1][1] != want(4) {
		t.Errorf("tied draws got %v, %v, %v, want %v", z[0][1], z[0][2], z[1][1], want(4))
	}
	if z[1][2] != want(1) || z[1][0] != want(6) {
		t.Errorf("extremes got %v and %v, want %v and %v", z[1][2], z[1][0], want(1), want(6))
	}
	if math.Abs(z[1][2]+z[1][0]) > 1e-12 {
		t.Errorf("z of ranks 1 and 6 = %v and %v, want symmetric", z[1][2], z[1][0])
	}
}

func TestPooledQuantileType7(t *testing.T) {
	x := [][]float64{{4, 1}, {3, 2}}
	// Sorted 1 2 3 4: position (4 − 1)·p.
	for _, tc := range []struct{ p, want float64 }{{0, 1}, {0.5, 2.5}, {0.25, 1.75}, {1, 4}} {
		if got := pooledQuantile(x, tc.p); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("quantile %g = %v, want %v", tc.p, got, tc.want)
		}
	}
}

// The FFT autocovariance must equal the direct sum at every lag.
func TestAutocovarianceMatchesDirectSum(t *testing.T) {
	for _, n := range []int{1, 2, 7, 64, 1000} {
		x := ar1Chains("acov", 1, n, 0.7)[0]
		got := newAutocovariance(n).compute(x)
		m := mean(x)
		for lag := 0; lag < n; lag++ {
			var sum float64
			for i := 0; i+lag < n; i++ {
				sum += (x[i] - m) * (x[i+lag] - m)
			}
			want := sum / float64(n)
			if math.Abs(got[lag]-want) > 1e-12*(1+math.Abs(got[0])) {
				t.Fatalf("n = %d, lag %d: FFT autocovariance %v, direct sum %v", n, lag,
					got[lag], want)
			}
		}
	}
}

// Bartlett's formula for an AR(1): var(ρ̂_k) ≈ [(1 + ρ²)(1 − ρ^{2k})/(1 − ρ²)
// − 2kρ^{2k}]/N.
func TestAutocorrelationAR1(t *testing.T) {
	const n, rho = 100000, 0.9
	x := ar1Chains("acf-ar1", 1, n, rho)[0]
	got := Autocorrelation(x, 5)
	if len(got) != 6 {
		t.Fatalf("Autocorrelation(x, 5) has %d values, want 6", len(got))
	}
	if got[0] != 1 {
		t.Errorf("ρ_0 = %v, want 1", got[0])
	}
	for k := 1; k <= 5; k++ {
		want := math.Pow(rho, float64(k))
		r2k := math.Pow(rho, float64(2*k))
		variance := ((1+rho*rho)*(1-r2k)/(1-rho*rho) - 2*float64(k)*r2k) / n
		if tol := 4 * math.Sqrt(variance); math.Abs(got[k]-want) > tol {
			t.Errorf("ρ_%d = %.4f, want %.4f ± %.4f", k, got[k], want, tol)
		}
	}
}

func TestAutocorrelationLimits(t *testing.T) {
	if got := Autocorrelation([]float64{1, 2, 3}, 10); len(got) != 3 {
		t.Errorf("maxLag 10 on 3 draws gave %d values, want 3", len(got))
	}
	if got := Autocorrelation(nil, 3); got != nil {
		t.Errorf("Autocorrelation(nil) = %v, want nil", got)
	}
	if got := Autocorrelation([]float64{1, 2}, -1); got != nil {
		t.Errorf("Autocorrelation with maxLag −1 = %v, want nil", got)
	}
	if got := Autocorrelation([]float64{2, 2, 2}, 1); !math.IsNaN(got[0]) {
		t.Errorf("Autocorrelation of a constant = %v, want NaN", got)
	}
}
