package rng

import "math"

// normChunk is the number of polar-method pairs that FillNorm draws before
// it transforms them.
const normChunk = 128

// FillNorm writes standard normal variates into dst: the numbers that
// len(dst) calls of Norm would return, bit for bit, leaving r in the state
// those calls would leave it in. It runs in two passes per chunk of pairs.
// The first draws the accepted pairs (u, v, s = u² + v²) of the polar
// method. The second computes f = √(−2·ln s / s) and writes u·f and v·f,
// so the logarithms of a chunk do not wait on the rejection branches.
func (r *Rand) FillNorm(dst []float64) {
	if len(dst) == 0 {
		return
	}
	if r.haveSpare {
		r.haveSpare = false
		dst[0] = r.spare
		dst = dst[1:]
	}
	var u, v, s, f [normChunk]float64
	for len(dst) > 0 {
		pairs := min(normChunk, (len(dst)+1)/2)
		for p := 0; p < pairs; {
			// The same operations as in Norm, in the same order.
			up := float64(2*r.Float64()) - 1
			vp := float64(2*r.Float64()) - 1
			sp := float64(up*up) + float64(vp*vp)
			u[p], v[p], s[p] = up, vp, sp
			if sp != 0 && sp < 1 {
				p++
			}
		}
		polarFactors(s[:pairs], f[:pairs])

		full := min(pairs, len(dst)/2)
		out := dst[:2*full]
		for p := 0; p < full; p++ {
			out[2*p] = u[p] * f[p]
			out[2*p+1] = v[p] * f[p]
		}
		if full < pairs {
			// An odd count: the last pair's second variate becomes the
			// spare that the next call returns first.
			dst[2*full] = u[full] * f[full]
			r.spare = v[full] * f[full]
			r.haveSpare = true
			return
		}
		dst = dst[2*full:]
	}
}

// polarFactorsGo is the portable polarFactors.
func polarFactorsGo(s, f []float64) {
	f = f[:len(s)]
	for i, x := range s {
		f[i] = math.Sqrt(-2 * logNormal(x) / x)
	}
}

// Coefficients of math.Log (Go 1.26, src/math/log.go and log_amd64.s).
const (
	logLn2Hi = 6.93147180369123816490e-01 // 0x3fe62e42fee00000
	logLn2Lo = 1.90821492927058770002e-10 // 0x3dea39ef35793c76
	logL1    = 6.666666666666735130e-01   // 0x3FE5555555555593
	logL2    = 3.999999999940941908e-01   // 0x3FD999999997FA04
	logL3    = 2.857142874366239149e-01   // 0x3FD2492494229359
	logL4    = 2.222219843214978396e-01   // 0x3FCC71C51D8E78AF
	logL5    = 1.818357216161805012e-01   // 0x3FC7466496CB03DE
	logL6    = 1.531383769920937332e-01   // 0x3FC39A09D078C69F
	logL7    = 1.479819860511658591e-01   // 0x3FC2F112DF3E5244
)

// logNormal returns ln x for a positive normal (not subnormal) finite x
// with the operations of math.Log on amd64, in the same order and without
// fused multiply-adds, so it equals math.Log(x) bit for bit there.
func logNormal(x float64) float64 {
	// x = f1·2^k with f1 in [½, 1), then f1 in [√2/2, √2).
	bits := math.Float64bits(x)
	f1 := math.Float64frombits(bits&(1<<52-1) | 0x3FE0000000000000)
	k := float64(int(bits>>52&0x7FF) - 0x3FE)
	if f1 < math.Sqrt2/2 {
		k--
		f1 *= 2
	}
	f := f1 - 1
	s := f / (2 + f)
	s2 := float64(s * s)
	s4 := float64(s2 * s2)
	t1 := s2 * float64(logL1+float64(s4*float64(logL3+float64(s4*float64(logL5+float64(s4*logL7))))))
	t2 := s4 * float64(logL2+float64(s4*float64(logL4+float64(s4*logL6))))
	R := t1 + t2
	hfsq := float64(0.5*f) * f
	return float64(k*logLn2Hi) - ((hfsq - (float64(s*(hfsq+R)) + float64(k*logLn2Lo))) - f)
}
