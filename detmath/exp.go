package detmath

import (
	"math"
	"math/big"
)

// tableBits is log2 of the number of entries in the 2^(j/128) table.
const tableBits = 7

const tableSize = 1 << tableBits

// ln2 to 100 significant digits.
const ln2Digits = "0.6931471805599453094172321214581765680755001343602552541206800094933936219696947156058633269964186875"

var (
	// twoPowHi[j] + twoPowLo[j] is 2^(j/128) to about 106 bits, and
	// twoPowHi[j] is 2^(j/128) rounded to nearest.
	twoPowHi, twoPowLo [tableSize]float64

	// ln2Hi + ln2Lo is ln2/128. ln2Hi has its low 18 mantissa bits clear, so
	// m·ln2Hi is exact for every |m| < 2^18, which covers |x| < 1420.
	ln2Hi, ln2Lo float64

	// invLn2 is 128/ln2 rounded to nearest.
	invLn2 float64
)

func init() {
	const prec = 256
	ln2, _, err := big.ParseFloat(ln2Digits, 10, prec, big.ToNearestEven)
	if err != nil {
		panic("detmath: parse ln2: " + err.Error())
	}

	step := new(big.Float).SetPrec(prec).Quo(ln2, big.NewFloat(tableSize))
	exact, _ := step.Float64()
	ln2Hi = math.Float64frombits(math.Float64bits(exact) &^ (1<<18 - 1))
	rest := new(big.Float).SetPrec(prec).Sub(step, big.NewFloat(ln2Hi))
	ln2Lo, _ = rest.Float64()
	inv := new(big.Float).SetPrec(prec).Quo(big.NewFloat(tableSize), ln2)
	invLn2, _ = inv.Float64()

	// roots[i] is 2^(2^i/128), built by repeated square roots of 2.
	var roots [tableBits]*big.Float
	root := new(big.Float).SetPrec(prec).SetInt64(2)
	for i := tableBits - 1; i >= 0; i-- {
		root = new(big.Float).SetPrec(prec).Sqrt(root)
		roots[i] = root
	}
	for j := range tableSize {
		t := new(big.Float).SetPrec(prec).SetInt64(1)
		for i := range tableBits {
			if j&(1<<i) != 0 {
				t.Mul(t, roots[i])
			}
		}
		twoPowHi[j], _ = t.Float64()
		t.Sub(t, big.NewFloat(twoPowHi[j]))
		twoPowLo[j], _ = t.Float64()
	}
}

// Bounds outside which Exp returns +Inf or 0 without computing. Between
// them the scaling step rounds to +Inf or to a subnormal or 0 by itself.
const (
	expOverflow  = 710.0
	expUnderflow = -745.2 // exp(−745.2) is below half the smallest subnormal
)

// Polynomial coefficients 1/i! of exp(r) − 1 = r + r²/2 + r³/6 + r⁴/24 + r⁵/120.
// The omitted term r⁶/720 is below 2^−60 of the result for |r| ≤ ln2/256.
const (
	c2 = 1.0 / 2
	c3 = 1.0 / 6
	c4 = 1.0 / 24
	c5 = 1.0 / 120
)

// Exp returns e^x. Special cases are Exp(+Inf) = +Inf, Exp(−Inf) = 0 and
// Exp(NaN) = NaN. Large x overflow to +Inf and very negative x underflow
// to 0. The error for normal results is about 0.51 ulp by rounding
// analysis, and at most 0.505 ulp on the tests' grid.
func Exp(x float64) float64 {
	switch {
	case x != x:
		return x
	case x > expOverflow:
		return math.Inf(1)
	case x < expUnderflow:
		return 0
	}

	// x = (128k + j)·ln2/128 + r, so e^x = 2^k · 2^(j/128) · e^r.
	m := int(math.Floor(float64(x*invLn2) + 0.5))
	mf := float64(m)
	r := float64(x-float64(mf*ln2Hi)) - float64(mf*ln2Lo)
	j := m & (tableSize - 1)
	k := m >> tableBits

	// p = e^r − 1, then y = 2^(j/128)·(1 + p) with the table's low part
	// added before the final rounding.
	p := float64(c4 + float64(r*c5))
	p = float64(c3 + float64(r*p))
	p = float64(c2 + float64(r*p))
	p = float64(r + float64(float64(r*r)*p))
	hi := twoPowHi[j]
	y := hi + float64(twoPowLo[j]+float64(hi*p))

	return scale(y, k)
}

// scale returns y·2^k for y in [0.99, 2), rounding once.
func scale(y float64, k int) float64 {
	switch {
	case k > 1023:
		// y·2 is exact, and the product rounds to +Inf on overflow.
		return float64(y*2) * pow2(k-1)
	case k < -1021:
		// The first product is a normal number and exact, the second
		// rounds once to the subnormal result.
		return float64(y*pow2(k+54)) * pow2(-54)
	default:
		return y * pow2(k)
	}
}

// pow2 returns 2^k for k in [−1022, 1023].
func pow2(k int) float64 {
	return math.Float64frombits(uint64(k+1023) << 52)
}
