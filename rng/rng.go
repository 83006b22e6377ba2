// Package rng provides the deterministic random number generators of
// llcflow. Every stream is seeded from a node key, a stream name and an
// index (a chain number, say), never from process state, so the same node
// draws the same numbers in every process, on every executor and at every
// parallelism.
//
// The generator is PCG (math/rand/v2's PCG, whose algorithm the Go project
// fixes). Normal variates use the Marsaglia polar method with math.Log and
// math.Sqrt: Sqrt is correctly rounded, and math.Log's amd64 assembly uses
// no fused multiply-add. math/rand/v2's NormFloat64 is avoided because its
// tail test calls math.Exp, whose amd64 assembly takes a fused
// multiply-add path on CPUs that have one. FillNorm returns the numbers of
// Norm, bit for bit, with a copy of math.Log's amd64 operations that runs
// on eight lanes with AVX-512 where the CPU has it.
package rng

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"math/rand/v2"
)

// Rand is a seeded stream of random numbers. It is not safe for concurrent
// use: give each goroutine its own stream.
type Rand struct {
	pcg       *rand.PCG
	spare     float64
	haveSpare bool
}

// New returns the stream for (key, stream, index). Different triples give
// unrelated streams because the seed is SHA-256 of all three.
func New(key, stream string, index uint64) *Rand {
	h := sha256.New()
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write([]byte(stream))
	h.Write([]byte{0})
	var idx [8]byte
	binary.LittleEndian.PutUint64(idx[:], index)
	h.Write(idx[:])
	sum := h.Sum(nil)
	return &Rand{pcg: rand.NewPCG(binary.LittleEndian.Uint64(sum[0:8]), binary.LittleEndian.Uint64(sum[8:16]))}
}

// Uint64 returns a uniformly distributed 64-bit value.
func (r *Rand) Uint64() uint64 { return r.pcg.Uint64() }

// Float64 returns a uniform value in [0, 1) with 53 random bits.
func (r *Rand) Float64() float64 { return float64(r.pcg.Uint64()>>11) / (1 << 53) }

// IntN returns a uniform integer in [0, n). It panics if n <= 0.
func (r *Rand) IntN(n int) int {
	if n <= 0 {
		panic("rng: IntN argument must be positive")
	}
	// Lemire's multiply-shift with rejection, exact for every n.
	bound := uint64(n)
	for {
		hi, lo := bits.Mul64(r.pcg.Uint64(), bound)
		if lo >= bound || lo >= (-bound)%bound {
			return int(hi)
		}
	}
}

// Norm returns a standard normal variate.
func (r *Rand) Norm() float64 {
	if r.haveSpare {
		r.haveSpare = false
		return r.spare
	}
	for {
		// The float64 conversions forbid fusing the products into
		// fused multiply-adds (Go spec, "Arithmetic operators"), so the
		// bits do not depend on GOAMD64 or the architecture's FMA.
		u := float64(2*r.Float64()) - 1
		v := float64(2*r.Float64()) - 1
		s := float64(u*u) + float64(v*v)
		if s == 0 || s >= 1 {
			continue
		}
		f := math.Sqrt(-2 * math.Log(s) / s)
		r.spare = v * f
		r.haveSpare = true
		return u * f
	}
}

// Sample writes k distinct indices drawn uniformly from [0, n) into dst[:k]
// (a partial Fisher–Yates shuffle of perm, which must hold a permutation of
// [0, n) and is left permuted). It panics if k > n or len(perm) != n.
func (r *Rand) Sample(perm []int, k int, dst []int) {
	n := len(perm)
	if k > n {
		panic("rng: Sample size exceeds population")
	}
	for i := 0; i < k; i++ {
		j := i + r.IntN(n-i)
		perm[i], perm[j] = perm[j], perm[i]
		dst[i] = perm[i]
	}
}

// MarshalBinary returns the generator state, for checkpoints.
func (r *Rand) MarshalBinary() ([]byte, error) {
	state, err := r.pcg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	var spare [9]byte
	if r.haveSpare {
		spare[0] = 1
		binary.LittleEndian.PutUint64(spare[1:], math.Float64bits(r.spare))
	}
	return append(state, spare[:]...), nil
}

// UnmarshalBinary restores a state written by MarshalBinary.
func (r *Rand) UnmarshalBinary(data []byte) error {
	if len(data) < 9 {
		return errors.New("rng: checkpoint state too short")
	}
	cut := len(data) - 9
	if r.pcg == nil {
		r.pcg = rand.NewPCG(0, 0)
	}
	if err := r.pcg.UnmarshalBinary(data[:cut]); err != nil {
		return err
	}
	r.haveSpare = data[cut] == 1
	r.spare = math.Float64frombits(binary.LittleEndian.Uint64(data[cut+1:]))
	return nil
}
