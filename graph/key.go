package graph

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
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
	for i, in := range sorted {
		if in.Role == "" {
			return "", fmt.Errorf("compute key: input %d has an empty role", i)
		}
		if i > 0 && sorted[i-1].Role == in.Role {
			return "", fmt.Errorf("compute key: input role %q appears twice; "+
				"a node has at most one input per role", in.Role)
		}
	}

	bufp := keyBuffers.Get().(*[]byte)
	defer keyBuffers.Put(bufp)
	data, ok := appendKeyObject((*bufp)[:0], typ, kind, version, params, sorted)
	*bufp = data[:0]
	if !ok {
		// Encode the object through Canonical, which names the value at
		// fault.
		var err error
		if data, err = Canonical(keyObject(typ, kind, version, params, sorted)); err != nil {
			return "", fmt.Errorf("compute key: %w", err)
		}
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// keyBuffers are the buffers that ComputeKey encodes into.
var keyBuffers = sync.Pool{New: func() any {
	buf := make([]byte, 0, 4<<10)
	return &buf
}}

// keyObject returns the object whose canonical encoding ComputeKey hashes.
func keyObject(typ, kind, version string, params map[string]any, sorted []InputKey) map[string]any {
	encodedInputs := make([]any, len(sorted))
	for i, in := range sorted {
		encodedInputs[i] = map[string]any{"key": in.Key, "role": in.Role}
	}
	if params == nil {
		params = map[string]any{}
	}
	return map[string]any{
		"inputs":  encodedInputs,
		"kind":    kind,
		"params":  params,
		"type":    typ,
		"version": version,
	}
}

// appendKeyObject appends the canonical encoding of keyObject without
// building it, with the keys written in their sorted order. It returns
// false where Canonical would return an error.
func appendKeyObject(buf []byte, typ, kind, version string, params map[string]any,
	sorted []InputKey) ([]byte, bool) {
	ok := true
	field := func(name string, value any) {
		buf = append(buf, name...)
		if ok {
			buf, ok = appendFast(buf, value)
		}
	}
	buf = append(buf, `{"inputs":[`...)
	for i, in := range sorted {
		if i > 0 {
			buf = append(buf, ',')
		}
		field(`{"key":`, in.Key)
		field(`,"role":`, in.Role)
		buf = append(buf, '}')
	}
	buf = append(buf, ']')
	field(`,"kind":`, kind)
	buf = append(buf, `,"params":`...)
	if ok {
		buf, ok = appendFastObject(buf, params)
	}
	field(`,"type":`, typ)
	field(`,"version":`, version)
	return append(buf, '}'), ok
}

// RunIDOf returns the run id of a key: its first RunIDLength hex digits.
// It panics if key is shorter than that.
func RunIDOf(key string) string {
	if len(key) < RunIDLength {
		panic("graph: key " + key + " is shorter than a run id")
	}
	return key[:RunIDLength]
}
