package diagnostics

import (
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
)

// ESSBulk returns the bulk effective sample size: the ESS of the
// rank-normalized split chains. It measures how well the draws estimate
// the centre of the distribution. See the package doc for edge cases.
func ESSBulk(chains [][]float64) float64 {
	if !validDraws(chains) {
		return math.NaN()
	}
	ess, _ := essGeyer(rankNormalize(splitChains(chains)))
	return ess
}

// ESSTail returns the tail effective sample size: the smaller of the ESS
// of the 5 % and the 95 % quantile indicators. It measures how well the
// draws estimate the tails, such as the ends of a 90 % interval.
func ESSTail(chains [][]float64) float64 {
	return math.Min(ESSQuantile(chains, 0.05), ESSQuantile(chains, 0.95))
}

// ESSQuantile returns the ESS of the indicator I(x ≤ q_p) on the split
// chains, where q_p is the pooled p-quantile of the split draws. It is
// NaN when the indicator is constant.
func ESSQuantile(chains [][]float64, p float64) float64 {
	if !validDraws(chains) {
		return math.NaN()
	}
	split := splitChains(chains)
	indicator := indicatorChains(split, pooledQuantile(split, p))
	if !varies(indicator) {
		return math.NaN()
	}
	ess, _ := essGeyer(indicator)
	return ess
}

// ESSMean returns the effective sample size of the mean of the draws
// themselves (split, not rank-normalized), the one that gives the
// standard error sd/√ESS of a posterior mean when the variance is finite.
func ESSMean(chains [][]float64) float64 {
	if !validDraws(chains) {
		return math.NaN()
	}
	ess, _ := essGeyer(splitChains(chains))
	return ess
}

// Autocorrelation returns the autocorrelations ρ_0 = 1, ρ_1, …, ρ_maxLag
// of x, each the biased autocovariance at that lag (sum of products
// divided by len(x)) over the variance. maxLag is capped at len(x) − 1. It
// returns nil for an empty x or a negative maxLag, and NaNs when x is
// constant.
func Autocorrelation(x []float64, maxLag int) []float64 {
	if len(x) == 0 || maxLag < 0 {
		return nil
	}
	maxLag = min(maxLag, len(x)-1)
	acov := newAutocovariance(len(x)).compute(x)
	rho := make([]float64, maxLag+1)
	for t := range rho {
		rho[t] = acov[t] / acov[0]
	}
	return rho
}

// essGeyer returns the effective sample size S/τ of the pooled draws of
// chains (M chains of N ≥ 2 draws each, S = M·N) and the lag at which
// Geyer's initial positive sequence stopped.
//
// With W the mean within-chain variance and var⁺ = (N − 1)/N·W + B/N the
// pooled variance estimate (B/N the variance of the chain means, left out
// for one chain), the multi-chain autocorrelation at lag t is
//
//	ρ_t = 1 − (W − mean over chains of γ_t) / var⁺,
//
// with γ_t each chain's biased autocovariance. τ = −1 + 2·Σ_{t<K} ρ_t + ρ_K,
// where K is the first even lag at which the pair sum ρ_K + ρ_{K+1} turns
// negative (Geyer's initial positive sequence). The pair sums are first
// made non-increasing (the initial monotone sequence), and τ is kept at
// least 1/log₁₀ S so that antithetic chains cannot claim an unbounded ESS.
func essGeyer(chains [][]float64) (ess float64, lag int) {
	m, n := len(chains), len(chains[0])
	s := float64(m * n)

	acf := newAutocovariance(n)
	acovs := make([][]float64, m)
	means := make([]float64, m)
	var w float64
	for c, x := range chains {
		acovs[c] = acf.compute(x)
		means[c] = mean(x)
		w += acovs[c][0] * float64(n) / float64(n-1)
	}
	w /= float64(m)
	varPlus := w * float64(n-1) / float64(n)
	if m > 1 {
		varPlus += sampleVariance(means)
	}
	if !(varPlus > 0) {
		return math.NaN(), 0
	}
	rhoAt := func(t int) float64 {
		var sum float64
		for _, acov := range acovs {
			sum += acov[t]
		}
		return 1 - (w-sum/float64(m))/varPlus
	}

	rho := make([]float64, n)
	rho[0] = 1
	even, odd := 1.0, rhoAt(1)
	rho[1] = odd
	t := 0
	for t < n-5 && even+odd > 0 {
		t += 2
		even, odd = rhoAt(t), rhoAt(t+1)
		if even+odd >= 0 {
			rho[t], rho[t+1] = even, odd
		}
	}
	lag = t
	if even > 0 {
		rho[lag] = even
	}

	for t := 2; t <= lag-2; t += 2 {
		if prev := rho[t-2] + rho[t-1]; rho[t]+rho[t+1] > prev {
			rho[t] = prev / 2
			rho[t+1] = prev / 2
		}
	}

	tau := -1 + rho[lag]
	for _, r := range rho[:lag] {
		tau += 2 * r
	}
	tau = math.Max(tau, 1/math.Log10(s))
	return s / tau, lag
}

// autocovariance computes biased autocovariances of series of one length
// by FFT, reusing its transform and buffers.
type autocovariance struct {
	n      int
	fft    *fourier.FFT
	padded []float64
	coeff  []complex128
}

// newAutocovariance prepares for series of length n. The transform length
// is the first power of two at least 2n, so the circular correlation of
// the zero-padded series equals the linear one at every lag below n.
func newAutocovariance(n int) *autocovariance {
	size := 1
	for size < 2*n {
		size *= 2
	}
	return &autocovariance{
		n:      n,
		fft:    fourier.NewFFT(size),
		padded: make([]float64, size),
		coeff:  make([]complex128, size/2+1),
	}
}

// compute returns γ_t = (1/n)·Σ_{i<n−t} (x_i − x̄)(x_{i+t} − x̄) for
// t = 0 … n − 1, in a new slice.
func (a *autocovariance) compute(x []float64) []float64 {
	if len(x) != a.n {
		panic("diagnostics: series length does not match the autocovariance length")
	}
	m := mean(x)
	clear(a.padded)
	for i, v := range x {
		a.padded[i] = v - m
	}
	a.fft.Coefficients(a.coeff, a.padded)
	for i, c := range a.coeff {
		a.coeff[i] = complex(real(c)*real(c)+imag(c)*imag(c), 0)
	}
	a.fft.Sequence(a.padded, a.coeff)
	// Sequence is unnormalized: it multiplies by the transform length.
	scale := 1 / (float64(len(a.padded)) * float64(a.n))
	acov := make([]float64, a.n)
	for t := range acov {
		acov[t] = a.padded[t] * scale
	}
	return acov
}
