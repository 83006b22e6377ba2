package graph

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// RunIDLength is the number of hex digits of a key that form the run id.
const RunIDLength = 16

// InputKey is the key of the node that one input role of a node refers to.
type InputKey struct {
	Role string
	Key  string
}

// ComputeKey returns the hex SHA-256 of the canonical encoding (see
// Canonical) of the object
//
//	{"inputs":[{"key":K,"role":R},...],"kind":..,"params":..,"type":..,"version":..}
//
// with the inputs sorted by role. Block names and addresses are not part
// of the key. A nil params map hashes like an empty one. Roles must be
// non-empty and distinct.
func ComputeKey(typ, kind, version string, params map[string]any, inputs []InputKey) (string, error) {
	sorted := slices.Clone(inputs)
	slices.SortFunc(sorted, func(a, b InputKey) int { return strings.Compare(a.Role, b.Role) })

	encodedInputs := make([]any, len(sorted))
	for i, in := range sorted {
		if in.Role == "" {
			return "", fmt.Errorf("compute key: input %d has an empty role", i)
		}
		if i > 0 && sorted[i-1].Role == in.Role {
			return "", fmt.Errorf("compute key: input role %q appears twice; "+
				"a node has at most one input per role", in.Role)
		}
		encodedInputs[i] = map[string]any{"key": in.Key, "role": in.Role}
	}
	if params == nil {
		params = map[string]any{}
	}

	data, err := Canonical(map[string]any{
		"inputs":  encodedInputs,
		"kind":    kind,
		"params":  params,
		"type":    typ,
		"version": version,
	})
	if err != nil {
		return "", fmt.Errorf("compute key: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// RunIDOf returns the run id of a key: its first RunIDLength hex digits.
// It panics if key is shorter than that.
func RunIDOf(key string) string {
	if len(key) < RunIDLength {
		panic("graph: key " + key + " is shorter than a run id")
	}
	return key[:RunIDLength]
}
