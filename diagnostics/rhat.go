package diagnostics

import "math"

// RHat returns the rank-normalized split R̂ of Vehtari et al. 2021: the
// larger of the bulk R̂ (of the rank-normalized split chains) and the
// folded R̂ (of the rank-normalized split chains of |x − median|). Values
// near 1 mean the chains agree. Vehtari et al. recommend treating
// R̂ > 1.01 as a sign that the chains have not converged. See the package
// doc for edge cases.
func RHat(chains [][]float64) float64 {
	if !validDraws(chains) {
		return math.NaN()
	}
	bulk := rhatBasic(rankNormalize(splitChains(chains)))
	folded := math.NaN()
	if fold := foldChains(chains); varies(fold) {
		folded = rhatBasic(rankNormalize(splitChains(fold)))
	}
	if math.IsNaN(folded) {
		return bulk
	}
	return math.Max(bulk, folded)
}

// SplitRHat returns the classic split R̂ of the draws, without rank
// normalization or folding, as in Gelman et al., Bayesian Data Analysis,
// 3rd edition.
func SplitRHat(chains [][]float64) float64 {
	if !validDraws(chains) {
		return math.NaN()
	}
	return rhatBasic(splitChains(chains))
}

// rhatBasic returns R̂ = √(var⁺/W) of M chains of N draws, where W is the
// mean within-chain variance, B = N·(variance of the chain means) and
// var⁺ = (N − 1)/N·W + B/N.
func rhatBasic(chains [][]float64) float64 {
	n := float64(len(chains[0]))
	means := make([]float64, len(chains))
	var w float64
	for c, x := range chains {
		means[c] = mean(x)
		w += sampleVariance(x)
	}
	w /= float64(len(chains))
	b := n * sampleVariance(means)
	if w == 0 {
		if b == 0 {
			return math.NaN()
		}
		return math.Inf(1)
	}
	return math.Sqrt(((n-1)/n*w + b/n) / w)
}
