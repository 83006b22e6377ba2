package targets

import (
	"math"

	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/mathext"
)

// Quadrature settings of ExactMonomial. Each outer coordinate is integrated
// in v = log|w_j| with monomialGLOrder Gauss–Legendre points per unit
// panel. The integrand is analytic in v with features of width about 1, so
// the rule is accurate far beyond the four digits that tests need; the
// lower cut-off drops mass below e^{−60} relative to the result.
const (
	monomialGLOrder   = 12
	monomialSpanExtra = 60
	// monomialMaxOuter bounds the outer coordinates, whose nodes form a
	// tensor grid of about 1000^outer points.
	monomialMaxOuter = 2
)

// ExactMonomial returns λ̂(c) = c·E_p[K] for K(w) = Π_j w_j^{2k_j},
// k_j = exponents[j], under p(w) ∝ exp(−c·K(w)) with the uniform prior on
// the box [lo, hi]^d (γ = 0).
//
// Coordinates with k_j = 0 integrate out. The last coordinate with k_j > 0
// is integrated in closed form: for |w| uniform on [0, b] and
// X = s·b^{2k}, α = 1/(2k),
//
//	E[exp(−s w^{2k})]         = Γ(α+1) X^{−α} P(α, X)
//	E[w^{2k} exp(−s w^{2k})] = α b^{2k} Γ(α+1) X^{−α−1} P(α+1, X)
//
// with P the regularized lower incomplete gamma function. The others are
// integrated numerically in log|w_j|, where the posterior mass that piles
// up along the axes at large c is spread over a range of width about log c.
// It panics if the exponents or the box are invalid (see Monomial.Validate),
// if c < 0, or if more than three exponents are positive, because the cost
// grows as 1000^(positive exponents − 1).
func ExactMonomial(exponents []int, c, lo, hi float64) float64 {
	m := Monomial{Exponents: exponents, Lower: lo, Upper: hi}
	if err := m.Validate(); err != nil {
		panic("targets: ExactMonomial: " + err.Error())
	}
	if !(c >= 0) || math.IsInf(c, 0) {
		panic("targets: ExactMonomial: c must be finite and non-negative")
	}
	if c == 0 {
		return 0
	}

	var active []int
	for _, k := range exponents {
		if k > 0 {
			active = append(active, k)
		}
	}
	if len(active)-1 > monomialMaxOuter {
		panic("targets: ExactMonomial supports at most 3 positive exponents")
	}
	pieces := absPieces(lo, hi)
	inner := active[len(active)-1]
	outer := active[:len(active)-1]

	span := monomialSpanExtra + math.Max(0, math.Log(c))
	grids := make([][]logNode, len(outer))
	for i, k := range outer {
		grids[i] = logGrid(k, pieces, span)
	}

	var num, den float64
	var walk func(level int, t, weight float64)
	walk = func(level int, t, weight float64) {
		if level == len(grids) {
			s := c * math.Exp(t)
			e0, e1 := innerMoments(inner, pieces, s)
			den += weight * e0
			num += weight * math.Exp(t) * e1
			return
		}
		for _, node := range grids[level] {
			walk(level+1, t+node.t, weight*node.weight)
		}
	}
	walk(0, 0, 1)
	return c * num / den
}

// absPiece is one uniform component of the law of |w| when w is uniform
// on [lo, hi]: |w| is uniform on [0, b] with probability weight.
type absPiece struct{ b, weight float64 }

func absPieces(lo, hi float64) []absPiece {
	switch {
	case lo == 0:
		return []absPiece{{hi, 1}}
	case hi == 0:
		return []absPiece{{-lo, 1}}
	case -lo == hi:
		return []absPiece{{hi, 1}}
	}
	width := hi - lo
	return []absPiece{{hi, hi / width}, {-lo, -lo / width}}
}

// logNode is a quadrature node for one coordinate: t = 2k·log|w| and the
// probability weight of the node under the prior.
type logNode struct{ t, weight float64 }

// logGrid returns composite Gauss–Legendre nodes in v = log|w| over
// [log b − span, log b] for each piece. Under |w| uniform on [0, b] the
// density of v is e^v / b.
func logGrid(k int, pieces []absPiece, span float64) []logNode {
	x := make([]float64, monomialGLOrder)
	wt := make([]float64, monomialGLOrder)
	panels := int(math.Ceil(span))
	var nodes []logNode
	for _, p := range pieces {
		top := math.Log(p.b)
		for panel := 0; panel < panels; panel++ {
			hiV := top - float64(panel)
			quad.Legendre{}.FixedLocations(x, wt, hiV-1, hiV)
			for i, v := range x {
				density := math.Exp(v) / p.b
				nodes = append(nodes, logNode{t: 2 * float64(k) * v, weight: p.weight * wt[i] * density})
			}
		}
	}
	return nodes
}

// innerMoments returns E[exp(−s w^{2k})] and E[w^{2k} exp(−s w^{2k})] for
// |w| distributed as the pieces.
func innerMoments(k int, pieces []absPiece, s float64) (e0, e1 float64) {
	alpha := 1 / float64(2*k)
	g := math.Gamma(alpha + 1)
	for _, p := range pieces {
		b2k := ipow(p.b, 2*k)
		x := s * b2k
		var m0, m1 float64
		if x < 1e-8 {
			// Taylor expansion to first order in X, with error O(X²).
			m0 = 1 - x/float64(2*k+1)
			m1 = b2k * (1/float64(2*k+1) - x/float64(4*k+1))
		} else {
			m0 = g * math.Pow(x, -alpha) * mathext.GammaIncReg(alpha, x)
			m1 = alpha * b2k * g * math.Pow(x, -alpha-1) * mathext.GammaIncReg(alpha+1, x)
		}
		e0 += p.weight * m0
		e1 += p.weight * m1
	}
	return e0, e1
}
