package diagnostics

import (
	"math"
	"slices"
)

// minDraws is the shortest chain the diagnostics accept: split in half it
// still leaves 2 draws per half for a within-chain variance.
const minDraws = 4

// validDraws reports whether chains can be diagnosed: at least one chain
// of at least minDraws draws, all finite and not all equal. It panics when
// chains have different lengths, which is a programming error.
func validDraws(chains [][]float64) bool {
	if len(chains) == 0 {
		return false
	}
	n := len(chains[0])
	for _, x := range chains {
		if len(x) != n {
			panic("diagnostics: chains have different lengths")
		}
	}
	if n < minDraws {
		return false
	}
	for _, x := range chains {
		for _, v := range x {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return false
			}
		}
	}
	return varies(chains)
}

// varies reports whether chains contain two different values.
func varies(chains [][]float64) bool {
	first := chains[0][0]
	for _, x := range chains {
		for _, v := range x {
			if v != first {
				return true
			}
		}
	}
	return false
}

// splitChains returns the 2M half chains of M chains, in the order first
// half of chain 0, second half of chain 0, first half of chain 1, and so
// on. The middle draw of an odd-length chain is dropped. The halves share
// memory with chains.
func splitChains(chains [][]float64) [][]float64 {
	n := len(chains[0])
	half := n / 2
	split := make([][]float64, 0, 2*len(chains))
	for _, x := range chains {
		split = append(split, x[:half], x[n-half:])
	}
	return split
}

// rankNormalize returns chains with every draw replaced by
// Φ⁻¹((r − 3/8)/(S + 1/4)), where r is the draw's rank among all S draws
// and tied draws share their average rank. The offset 3/8 is Blom's, which
// Vehtari et al. 2021 use.
func rankNormalize(chains [][]float64) [][]float64 {
	type entry struct {
		value    float64
		chain, i int
	}
	var entries []entry
	for c, x := range chains {
		for i, v := range x {
			entries = append(entries, entry{v, c, i})
		}
	}
	// Ties are broken by position only to make the sort deterministic;
	// their ranks are averaged below.
	slices.SortFunc(entries, func(a, b entry) int {
		switch {
		case a.value < b.value:
			return -1
		case a.value > b.value:
			return 1
		case a.chain != b.chain:
			return a.chain - b.chain
		default:
			return a.i - b.i
		}
	})

	out := make([][]float64, len(chains))
	for c, x := range chains {
		out[c] = make([]float64, len(x))
	}
	s := float64(len(entries))
	for lo := 0; lo < len(entries); {
		hi := lo + 1
		for hi < len(entries) && entries[hi].value == entries[lo].value {
			hi++
		}
		// 1-based ranks lo+1 … hi share their mean.
		rank := float64(lo+1+hi) / 2
		z := normalQuantile((rank - 3.0/8) / (s + 1.0/4))
		for _, e := range entries[lo:hi] {
			out[e.chain][e.i] = z
		}
		lo = hi
	}
	return out
}

// normalQuantile returns Φ⁻¹(p) for p in (0, 1), using the complementary
// inverse error function in each tail for accuracy near 0 and 1.
func normalQuantile(p float64) float64 {
	if p < 0.5 {
		return -math.Sqrt2 * math.Erfcinv(2*p)
	}
	return math.Sqrt2 * math.Erfcinv(2*(1-p))
}

// foldChains returns chains with every draw replaced by |x − median|, the
// median taken over all draws.
func foldChains(chains [][]float64) [][]float64 {
	median := pooledQuantile(chains, 0.5)
	out := make([][]float64, len(chains))
	for c, x := range chains {
		out[c] = make([]float64, len(x))
		for i, v := range x {
			out[c][i] = math.Abs(v - median)
		}
	}
	return out
}

// indicatorChains returns chains with every draw replaced by 1 when it is
// at most threshold and by 0 otherwise.
func indicatorChains(chains [][]float64, threshold float64) [][]float64 {
	out := make([][]float64, len(chains))
	for c, x := range chains {
		out[c] = make([]float64, len(x))
		for i, v := range x {
			if v <= threshold {
				out[c][i] = 1
			}
		}
	}
	return out
}

// pooledQuantile returns the p-quantile of all draws, interpolated
// linearly between order statistics at position (S − 1)·p (type 7 of
// Hyndman and Fan 1996, the default of R and NumPy).
func pooledQuantile(chains [][]float64, p float64) float64 {
	var all []float64
	for _, x := range chains {
		all = append(all, x...)
	}
	slices.Sort(all)
	h := float64(len(all)-1) * p
	lo := int(math.Floor(h))
	if lo >= len(all)-1 {
		return all[len(all)-1]
	}
	return all[lo] + (h-float64(lo))*(all[lo+1]-all[lo])
}

func mean(x []float64) float64 {
	var sum float64
	for _, v := range x {
		sum += v
	}
	return sum / float64(len(x))
}

// sampleVariance returns the unbiased variance of x, dividing by n − 1,
// and exactly 0 when every element is equal (the rounded mean can differ
// from them).
func sampleVariance(x []float64) float64 {
	if !slices.ContainsFunc(x, func(v float64) bool { return v != x[0] }) {
		return 0
	}
	m := mean(x)
	var sum float64
	for _, v := range x {
		sum += (v - m) * (v - m)
	}
	return sum / float64(len(x)-1)
}
