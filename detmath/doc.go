// Package detmath computes elementary functions with results that are
// bit-identical on every amd64 CPU.
//
// The standard library's math.Exp has amd64 assembly that takes a fused
// multiply-add (FMA) path on CPUs with AVX and FMA, and math.Tanh, math.Pow
// and math.Erf call it, so their last bits depend on the CPU. The functions
// here use only IEEE 754 additions, multiplications and divisions, float
// conversions and bit manipulation, each rounded on its own. Every product
// that feeds a sum is wrapped in an explicit float64 conversion, because the
// Go specification forbids fusing across such a conversion. The results
// therefore stay the same under GOAMD64=v3, where the compiler may emit FMA.
//
// TanhSlice applies Tanh to a slice with the same bits, eight lanes at a
// time with AVX-512 where the CPU has it.
//
// Nouns:
//   - ulp: unit in the last place, the gap between a float64 and the next
//     one away from zero.
//   - reduced argument r: what is left of x after subtracting the nearest
//     multiple of ln2/128, |r| ≤ ln2/256.
//
// Accuracy, measured by the package's tests against math and against
// 256-bit big.Float references: Exp is within 1 ulp of math.Exp, Tanh within
// 2 ulp of math.Tanh.
package detmath
