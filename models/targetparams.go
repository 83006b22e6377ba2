package models

import "math"

// TargetParams returns the constant hidden width h for which the MLP with
// widths [in, h × depth, out] has the parameter count closest to target,
// preferring the smaller width on a tie. depth is the number of hidden
// layers. The count is
//
//	P(h) = in·h + (depth − 1)·h² + h·out + [depth·h + out with biases].
//
// It returns at least 1, and panics if in, out or depth is below 1.
func TargetParams(in, out, depth int, target int, bias bool) int {
	if in < 1 || out < 1 || depth < 1 {
		panic("models: TargetParams needs in, out and depth of at least 1")
	}
	biasTerms := 0
	if bias {
		biasTerms = 1
	}
	count := func(h int) int {
		return in*h + (depth-1)*h*h + h*out + biasTerms*(depth*h+out)
	}

	// Solve a·h² + b·h + c = target for the real root, then compare the
	// integers around it.
	a := float64(depth - 1)
	b := float64(in + out + biasTerms*depth)
	c := float64(biasTerms*out - target)
	var root float64
	if a == 0 {
		root = -c / b
	} else {
		root = (-b + math.Sqrt(b*b-4*a*c)) / (2 * a)
	}
	guess := max(1, int(math.Floor(root)))

	best := 1
	bestGap := absInt(count(1) - target)
	for h := max(1, guess-1); h <= guess+2; h++ {
		if gap := absInt(count(h) - target); gap < bestGap {
			best, bestGap = h, gap
		}
	}
	return best
}

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
