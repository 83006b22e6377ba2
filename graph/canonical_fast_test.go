package graph

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomValue returns a JSON-like value of at most the given depth, with
// the strings, numbers and keys that need escaping or special forms.
func randomValue(rng *rand.Rand, depth int) any {
	atoms := []any{nil, true, false, 0.0, math.Copysign(0, -1), 1e-5, 1e21, -3.25, 1.0 / 3,
		"", "plain", "quote\"back\\slash", "tab\tnew\nline", "\x01ctl", "<&>", "naïve ü"}
	if depth == 0 || rng.IntN(3) == 0 {
		return atoms[rng.IntN(len(atoms))]
	}
	n := rng.IntN(5)
	if rng.IntN(2) == 0 {
		list := make([]any, n)
		for i := range list {
			list[i] = randomValue(rng, depth-1)
		}
		return list
	}
	obj := make(map[string]any, n)
	for i := 0; i < n; i++ {
		key := atoms[10+rng.IntN(6)].(string) + strings.Repeat("k", rng.IntN(3))
		obj[key] = randomValue(rng, depth-1)
	}
	return obj
}

// TestCanonicalFastMatchesPaths checks that the encoder without value paths
// writes the same bytes as the one with them, since keys depend on it.
func TestCanonicalFastMatchesPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < 2000; i++ {
		v := randomValue(rng, 4)
		fast, ok := appendFast(nil, v)
		if !ok {
			t.Fatalf("value %d: the fast encoder rejected %#v", i, v)
		}
		slow, err := appendCanonical(nil, v, "")
		if err != nil {
			t.Fatalf("value %d: %v", i, err)
		}
		if !bytes.Equal(fast, slow) {
			t.Fatalf("value %d: fast %s, with paths %s", i, fast, slow)
		}
	}
	for _, bad := range []any{math.NaN(), map[string]any{"a": []any{math.Inf(1)}}, "\xff", 3} {
		if _, ok := appendFast(nil, bad); ok {
			t.Errorf("the fast encoder accepted %#v", bad)
		}
	}
}
