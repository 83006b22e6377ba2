//go:build !amd64 || purego

package detmath

// useSIMD is false where no assembly TanhSlice exists.
var useSIMD = false

// TanhSlice writes dst[i] = Tanh(x[i]) for every i < len(x). It panics if
// dst is shorter than x.
func TanhSlice(dst, x []float64) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = Tanh(v)
	}
}
