//go:build amd64 && !purego

package rng

import "golang.org/x/sys/cpu"

// useSIMD selects polarFactors8, the AVX-512 transform of FillNorm. It
// gives the bits of the portable loop, so the choice changes speed only.
// Tests switch it off to compare the two paths.
var useSIMD = cpu.X86.HasAVX512F

// polarFactors8 writes f_i = √(−2·ln s_i / s_i) for i < n, eight lanes at a
// time, with the operations of logNormal. n must be a multiple of 8 and
// every s_i a positive normal number below 1.
//
//go:noescape
func polarFactors8(s, f *float64, n int)

// polarFactors writes f_i = √(−2·ln s_i / s_i) for every s_i, which must
// be positive normal numbers below 1.
func polarFactors(s, f []float64) {
	f = f[:len(s)]
	i := 0
	if useSIMD {
		i = len(s) &^ 7
		if i > 0 {
			polarFactors8(&s[0], &f[0], i)
		}
	}
	polarFactorsGo(s[i:], f[i:])
}
