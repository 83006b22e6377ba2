package targets

import (
	"fmt"
	"sort"
)

// LambdaRRR returns the learning coefficient λ and its multiplicity m of
// reduced-rank regression y = B·A·x with input dimension M, hidden width H,
// output dimension N and true rank r, from Aoyagi and Watanabe (2005):
//
//   - case 2, M + H < N + r: λ = (H·M − H·r + N·r)/2;
//   - case 3, N + H < M + r: λ = (H·N − H·r + M·r)/2;
//   - case 4, M + N < H + r: λ = M·N/2;
//   - case 1, otherwise: λ = [2(H + r)(M + N) − (M − N)² − (H + r)²]/8
//     with m = 1 when M + H + N + r is even, and that value plus 1/8 with
//     m = 2 when it is odd.
//
// Cases 2 to 4 have m = 1. It panics unless M, H, N ≥ 1 and
// 0 ≤ r ≤ min(M, H, N).
func LambdaRRR(M, H, N, r int) (lambda float64, m int) {
	if M < 1 || H < 1 || N < 1 || r < 0 || r > min(M, H, N) {
		panic(fmt.Sprintf("targets: LambdaRRR(M=%d, H=%d, N=%d, r=%d): need M, H, N ≥ 1 and 0 ≤ r ≤ min(M, H, N)", M, H, N, r))
	}
	switch {
	case M+H < N+r:
		return float64(H*M-H*r+N*r) / 2, 1
	case N+H < M+r:
		return float64(H*N-H*r+M*r) / 2, 1
	case M+N < H+r:
		return float64(M*N) / 2, 1
	}
	lambda = float64(2*(H+r)*(M+N)-(M-N)*(M-N)-(H+r)*(H+r)) / 8
	if (M+H+N+r)%2 == 1 {
		return lambda + 1.0/8, 2
	}
	return lambda, 1
}

// LambdaDLN returns the learning coefficient of a deep linear network
// x ↦ W_L ⋯ W_1 x with layer widths H_1 (input) … H_{L+1} (output) and true
// product rank r, from Aoyagi (2024).
//
// With M_i = H_i − r, S is the set of the ℓ + 1 smallest M_i for the
// smallest ℓ ≥ 1 such that max_S M < min_{S^c} M, Σ_S M ≥ ℓ·max_S M and
// Σ_S M < ℓ·min_{S^c} M, where the conditions on S^c hold trivially when it
// is empty. With Σ = Σ_S M_j, M̄ = ⌈Σ/ℓ⌉ and a = Σ − (M̄ − 1)ℓ,
//
//	λ = [−r² + r(H_1 + H_{L+1})]/2 + a(ℓ − a)/(4ℓ)
//	    − [ℓ(ℓ − 1)/4]·(Σ/ℓ)² + ½ Σ_{i<j ∈ S} M_i M_j.
//
// It panics unless there are at least two widths, every width is at least
// 1 and 0 ≤ r ≤ min H_i.
func LambdaDLN(widths []int, r int) float64 {
	if len(widths) < 2 {
		panic("targets: LambdaDLN needs at least two widths (one matrix)")
	}
	margins := make([]int, len(widths))
	for i, h := range widths {
		if h < 1 || r < 0 || r > h {
			panic(fmt.Sprintf("targets: LambdaDLN(%v, r=%d): need every width ≥ 1 and 0 ≤ r ≤ min width", widths, r))
		}
		margins[i] = h - r
	}
	sort.Ints(margins)

	ell, sum := dlnSubset(margins)
	subset := margins[:ell+1]
	mBar := (sum + ell - 1) / ell
	a := sum - (mBar-1)*ell
	l := float64(ell)
	mean := float64(sum) / l

	lambda := float64(-r*r+r*(widths[0]+widths[len(widths)-1])) / 2
	lambda += float64(a*(ell-a)) / (4 * l)
	lambda -= l * (l - 1) / 4 * mean * mean
	for i := range subset {
		for j := i + 1; j < len(subset); j++ {
			lambda += float64(subset[i]*subset[j]) / 2
		}
	}
	return lambda
}

// dlnSubset returns the smallest ℓ for which the ℓ + 1 smallest of the
// sorted margins form the set S of LambdaDLN, and Σ_S M.
func dlnSubset(margins []int) (ell, sum int) {
	for ell = 1; ell < len(margins); ell++ {
		subset, rest := margins[:ell+1], margins[ell+1:]
		sum = 0
		for _, m := range subset {
			sum += m
		}
		maxS := subset[len(subset)-1]
		if sum < ell*maxS {
			continue
		}
		if len(rest) > 0 && !(maxS < rest[0] && sum < ell*rest[0]) {
			continue
		}
		return ell, sum
	}
	panic(fmt.Sprintf("targets: LambdaDLN found no subset S for margins %v", margins))
}
