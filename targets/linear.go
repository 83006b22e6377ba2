package targets

import (
	"fmt"
	"slices"

	"github.com/llcflow/llcflow/samplers"
)

// Linear is the population loss of a deep linear network x ↦ W_L ⋯ W_1 x
// (no biases) against a teacher T of rank r, for inputs x ~ N(0, I):
//
//	K(w) = E‖(W_L ⋯ W_1 − T)x‖²/H_{L+1} = ‖W_L ⋯ W_1 − T‖²_F / H_{L+1},
//
// the mean squared error per output coordinate. Widths are H_1 (input) …
// H_{L+1} (output), and W_l is H_{l+1} × H_l, stored row-major one after
// the other as in an identity MLP without biases. With three widths it is
// reduced-rank regression.
//
// T = E_r, the H_{L+1} × H_1 matrix with ones at (i, i) for i < r and
// zeros elsewhere, and w* = (E_r, …, E_r) with every W_l = E_r of its
// shape. Every factor of w* has rank r, so w* is a most singular point of
// the set {W_L ⋯ W_1 = T}, where the local learning coefficient equals
// the global λ of LambdaRRR and LambdaDLN. At a generic point of that set
// (a full-rank W_2, say) the local coefficient is larger.
type Linear struct {
	Widths []int
	Rank   int
}

// Validate returns an error unless there are at least two widths, every
// width is at least 1 and 0 ≤ Rank ≤ min width.
func (l Linear) Validate() error {
	if len(l.Widths) < 2 {
		return fmt.Errorf("linear target: widths %v need at least an input and an output width", l.Widths)
	}
	narrowest := l.Widths[0]
	for i, h := range l.Widths {
		if h < 1 {
			return fmt.Errorf("linear target: width %d is %d: widths must be at least 1", i, h)
		}
		narrowest = min(narrowest, h)
	}
	if l.Rank < 0 || l.Rank > narrowest {
		return fmt.Errorf("linear target: rank %d is invalid: it must lie in [0, %d], the narrowest width",
			l.Rank, narrowest)
	}
	return nil
}

// Dim returns Σ_l H_{l+1}·H_l.
func (l Linear) Dim() int {
	d := 0
	for i := 1; i < len(l.Widths); i++ {
		d += l.Widths[i] * l.Widths[i-1]
	}
	return d
}

// N returns 1: the loss is a population loss.
func (l Linear) N() int { return 1 }

// WStar returns (E_r, …, E_r).
func (l Linear) WStar() []float64 {
	w := make([]float64, l.Dim())
	off := 0
	for i := 1; i < len(l.Widths); i++ {
		rows, cols := l.Widths[i], l.Widths[i-1]
		for k := 0; k < l.Rank; k++ {
			w[off+k*cols+k] = 1
		}
		off += rows * cols
	}
	return w
}

// Lambda returns λ and its multiplicity m: LambdaRRR for two matrices,
// where m is known, LambdaDLN with m = 0 (unknown) for more, and the
// regular d/2 with m = 1 for one matrix.
func (l Linear) Lambda() (lambda float64, mult int) {
	w := l.Widths
	switch len(w) {
	case 2:
		return float64(w[0]*w[1]) / 2, 1
	case 3:
		return LambdaRRR(w[0], w[1], w[2], l.Rank)
	}
	return LambdaDLN(w, l.Rank), 0
}

// NewEvaluator returns an evaluator with its own buffers.
func (l Linear) NewEvaluator() samplers.Evaluator {
	e := &linearEvaluator{widths: l.Widths, rank: l.Rank, d: l.Dim()}
	in, out := l.Widths[0], l.Widths[len(l.Widths)-1]
	layers := len(l.Widths) - 1
	// prefix[l] = W_l ⋯ W_1 (H_{l+1} × H_1) and suffix[l] = W_L ⋯ W_{l+1}
	// (H_{L+1} × H_{l+1}), for l = 0 … L−1 with the empty products left
	// implicit.
	e.prefix = make([][]float64, layers)
	e.suffix = make([][]float64, layers)
	for i := 0; i < layers; i++ {
		e.prefix[i] = make([]float64, l.Widths[i+1]*in)
		e.suffix[i] = make([]float64, out*l.Widths[i+1])
	}
	e.residual = make([]float64, out*in)
	e.left = make([]float64, slices.Max(l.Widths)*in)
	return e
}

type linearEvaluator struct {
	widths []int
	rank   int
	d      int

	prefix, suffix [][]float64
	residual, left []float64
}

// layer returns W_l (0-based) as a slice of w and its shape.
func (e *linearEvaluator) layer(w []float64, l int) (m []float64, rows, cols int) {
	off := 0
	for i := 0; i < l; i++ {
		off += e.widths[i+1] * e.widths[i]
	}
	rows, cols = e.widths[l+1], e.widths[l]
	return w[off : off+rows*cols], rows, cols
}

// forward fills the prefix products and the residual R = W_L ⋯ W_1 − T,
// and returns K = ‖R‖²_F / H_{L+1}.
func (e *linearEvaluator) forward(w []float64) float64 {
	in := e.widths[0]
	layers := len(e.widths) - 1
	w0, rows, _ := e.layer(w, 0)
	copy(e.prefix[0], w0[:rows*in])
	for l := 1; l < layers; l++ {
		wl, rows, cols := e.layer(w, l)
		matMul(e.prefix[l], wl, e.prefix[l-1], rows, cols, in)
	}
	out := e.widths[layers]
	copy(e.residual, e.prefix[layers-1])
	for k := 0; k < e.rank; k++ {
		e.residual[k*in+k]--
	}
	var k float64
	for _, r := range e.residual {
		k += r * r
	}
	return k / float64(out)
}

func (e *linearEvaluator) Loss(w []float64) float64 {
	checkLen("linear", e.d, w, nil)
	return e.forward(w)
}

// LossGrad returns K(w) and writes its gradient into grad:
//
//	∂K/∂W_l = (2/H_{L+1})·(W_L ⋯ W_{l+1})ᵀ · R · (W_{l−1} ⋯ W_1)ᵀ.
//
// The batch is ignored.
func (e *linearEvaluator) LossGrad(w []float64, _ []int, grad []float64) float64 {
	checkLen("linear", e.d, w, grad)
	loss := e.forward(w)
	layers := len(e.widths) - 1
	in, out := e.widths[0], e.widths[layers]
	scale := 2 / float64(out)

	// suffix[l] = W_L ⋯ W_{l+2}, built from the top: suffix[L−1] = I.
	for l := layers - 1; l >= 0; l-- {
		s := e.suffix[l]
		if l == layers-1 {
			clear(s)
			for i := 0; i < out; i++ {
				s[i*out+i] = 1
			}
			continue
		}
		wNext, rows, cols := e.layer(w, l+1)
		matMul(s, e.suffix[l+1], wNext, out, rows, cols)
	}
	for l := 0; l < layers; l++ {
		g, rows, cols := e.layer(grad, l)
		// left = suffix[l]ᵀ · R, H_{l+1} × H_1.
		left := e.left[:rows*in]
		matMulTN(left, e.suffix[l], e.residual, out, rows, in)
		if l == 0 {
			for i := range g {
				g[i] = scale * left[i]
			}
			continue
		}
		// g = left · prefix[l−1]ᵀ, H_{l+1} × H_l.
		matMulNT(g, left, e.prefix[l-1], rows, in, cols)
		for i := range g {
			g[i] *= scale
		}
	}
	return loss
}

// matMul writes a·b into c, with a (m × k) and b (k × n) row-major.
func matMul(c, a, b []float64, m, k, n int) {
	for i := 0; i < m; i++ {
		row := c[i*n : (i+1)*n]
		clear(row)
		for p := 0; p < k; p++ {
			aip := a[i*k+p]
			for j, bpj := range b[p*n : (p+1)*n] {
				row[j] += aip * bpj
			}
		}
	}
}

// matMulTN writes aᵀ·b into c, with a (k × m) and b (k × n) row-major.
func matMulTN(c, a, b []float64, k, m, n int) {
	clear(c[:m*n])
	for p := 0; p < k; p++ {
		for i := 0; i < m; i++ {
			api := a[p*m+i]
			row := c[i*n : (i+1)*n]
			for j, bpj := range b[p*n : (p+1)*n] {
				row[j] += api * bpj
			}
		}
	}
}

// matMulNT writes a·bᵀ into c, with a (m × k) and b (n × k) row-major.
func matMulNT(c, a, b []float64, m, k, n int) {
	for i := 0; i < m; i++ {
		ai := a[i*k : (i+1)*k]
		for j := 0; j < n; j++ {
			var s float64
			for p, bjp := range b[j*k : (j+1)*k] {
				s += ai[p] * bjp
			}
			c[i*n+j] = s
		}
	}
}
