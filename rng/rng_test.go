package rng

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"
)

func TestStreamsDeterministic(t *testing.T) {
	a, b := New("k", "chain", 3), New("k", "chain", 3)
	for i := 0; i < 100; i++ {
		if x, y := a.Norm(), b.Norm(); x != y {
			t.Fatalf("draw %d: got %v and %v from equal seeds", i, x, y)
		}
	}
}

func TestStreamsDiffer(t *testing.T) {
	a, b := New("k", "chain", 0), New("k", "chain", 1)
	if a.Uint64() == b.Uint64() {
		t.Fatal("chains 0 and 1 start with the same value")
	}
}

// The sample mean and variance of 200,000 normals must lie within 5
// standard errors of 0 and 1 (SE of the mean 1/√N, of the variance √(2/N)).
func TestNormMoments(t *testing.T) {
	const n = 200000
	r := New("moments", "test", 0)
	var sum, sumSq float64
	for i := 0; i < n; i++ {
		x := r.Norm()
		sum += x
		sumSq += x * x
	}
	mean := sum / n
	variance := sumSq/n - mean*mean
	if se := 1 / math.Sqrt(n); math.Abs(mean) > 5*se {
		t.Errorf("mean = %v, want 0 ± %v", mean, 5*se)
	}
	if se := math.Sqrt(2.0 / n); math.Abs(variance-1) > 5*se {
		t.Errorf("variance = %v, want 1 ± %v", variance, 5*se)
	}
}

func TestIntNUniform(t *testing.T) {
	const n, draws = 7, 70000
	r := New("intn", "test", 0)
	var counts [n]int
	for i := 0; i < draws; i++ {
		counts[r.IntN(n)]++
	}
	// Each count is binomial(draws, 1/7): sd = √(draws·p·(1−p)).
	sd := math.Sqrt(draws * (1.0 / n) * (1 - 1.0/n))
	for k, c := range counts {
		if math.Abs(float64(c)-draws/n) > 5*sd {
			t.Errorf("count of %d = %d, want %d ± %.0f", k, c, draws/n, 5*sd)
		}
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	a := New("ckpt", "chain", 0)
	a.Norm() // leaves a spare normal behind
	state, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b := &Rand{}
	if err := b.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if x, y := a.Norm(), b.Norm(); x != y {
			t.Fatalf("draw %d after restore: got %v, want %v", i, y, x)
		}
	}
}

// TestSamplePinned pins the indices that Sample and IntN draw, over bounds
// from 1 to well above 2³², so a change to the multiply-shift or its
// rejection test fails here.
func TestSamplePinned(t *testing.T) {
	r := New("pinned", "sample", 0)
	h := sha256.New()
	var buf [8]byte
	perm := make([]int, 1000)
	for i := range perm {
		perm[i] = i
	}
	batch := make([]int, 256)
	for range 20 {
		r.Sample(perm, len(batch), batch)
		for _, i := range batch {
			binary.LittleEndian.PutUint64(buf[:], uint64(i))
			h.Write(buf[:])
		}
	}
	for _, n := range []int{1, 2, 3, 7, 1000, 1 << 31, 1<<33 + 5, 1<<62 + 1} {
		for range 50 {
			binary.LittleEndian.PutUint64(buf[:], uint64(r.IntN(n)))
			h.Write(buf[:])
		}
	}
	const want = "c309b138ba350ff5"
	if got := hex.EncodeToString(h.Sum(nil))[:16]; got != want {
		t.Errorf("digest %s, want %s", got, want)
	}
}
