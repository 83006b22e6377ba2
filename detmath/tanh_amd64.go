//go:build amd64 && !purego

package detmath

import (
	"math"

	"golang.org/x/sys/cpu"
)

// useSIMD selects tanh8, the AVX-512 TanhSlice. It gives the bits of Tanh,
// so the choice changes speed only. Tests switch it off to compare the two
// paths.
var useSIMD = cpu.X86.HasAVX512F

// tanhConstCount is the number of constants tanh8 loads.
const tanhConstCount = 15

// tanhConsts are tanh8's constants: the magnitude mask, the bounds of
// Tanh's cases, 1, 2, Exp's c2, invLn2, ln2Hi, ln2Lo, c5, c4 and c3, then
// two integers stored as bits, the table index mask and the exponent bias.
var tanhConsts [tanhConstCount]float64

// expTable is twoPowHi followed by twoPowLo, for tanh8's gathers.
var expTable [2 * tableSize]float64

func init() {
	tanhConsts = [tanhConstCount]float64{
		math.Float64frombits(1<<63 - 1), tanhSmall, tanhOne, tanhTiny, 1, 2, c2,
		invLn2, ln2Hi, ln2Lo, c5, c4, c3,
		math.Float64frombits(tableSize - 1), math.Float64frombits(1023),
	}
	copy(expTable[:tableSize], twoPowHi[:])
	copy(expTable[tableSize:], twoPowLo[:])
}

//go:noescape
func tanh8(x, dst *float64, n int, consts *[tanhConstCount]float64, coef, table *float64)

// TanhSlice writes dst[i] = Tanh(x[i]) for every i < len(x), bit for bit.
// It panics if dst is shorter than x.
func TanhSlice(dst, x []float64) {
	dst = dst[:len(x)]
	i := 0
	if useSIMD {
		i = len(x) &^ 7
		if i > 0 {
			tanh8(&x[0], &dst[0], i, &tanhConsts, &tanhCoef[0], &expTable[0])
		}
	}
	for ; i < len(x); i++ {
		dst[i] = Tanh(x[i])
	}
}
