//go:build !amd64 || purego

package rng

// useSIMD is false where no assembly transform exists.
var useSIMD = false

// polarFactors writes f_i = √(−2·ln s_i / s_i) for every s_i, which must
// be positive normal numbers below 1.
func polarFactors(s, f []float64) { polarFactorsGo(s, f) }
