package graph

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
)

// paramChange is a Change with whether the leaf exists on each side, which
// tells an added or removed null apart from a changed one.
type paramChange struct {
	Change
	added, removed bool
}

func (c paramChange) message() string {
	switch {
	case c.added:
		return fmt.Sprintf("%s added with value %s", c.Path, formatValue(c.New))
	case c.removed:
		return fmt.Sprintf("%s removed (was %s)", c.Path, formatValue(c.Old))
	default:
		return fmt.Sprintf("%s changed from %s to %s", c.Path, formatValue(c.Old), formatValue(c.New))
	}
}

// diffParams returns every leaf that differs between two parameter maps,
// in path order. Maps are compared key by key and lists index by index, so
// a list that grows reports its new elements as added.
func diffParams(old, new map[string]any) []paramChange {
	var changes []paramChange
	diffMaps("", old, new, &changes)
	return changes
}

func diffValues(path string, old, new any, changes *[]paramChange) {
	switch o := old.(type) {
	case map[string]any:
		if n, ok := new.(map[string]any); ok {
			diffMaps(path, o, n, changes)
			return
		}
	case []any:
		if n, ok := new.([]any); ok {
			diffLists(path, o, n, changes)
			return
		}
	}
	if !sameLeaf(old, new) {
		*changes = append(*changes, paramChange{Change: Change{Path: path, Old: old, New: new}})
	}
}

func diffMaps(path string, old, new map[string]any, changes *[]paramChange) {
	keys := make([]string, 0, len(old)+len(new))
	for k := range old {
		keys = append(keys, k)
	}
	for k := range new {
		if _, ok := old[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)

	for _, k := range keys {
		o, inOld := old[k]
		n, inNew := new[k]
		p := keyPath(path, k)
		switch {
		case !inOld:
			*changes = append(*changes, paramChange{Change: Change{Path: p, New: n}, added: true})
		case !inNew:
			*changes = append(*changes, paramChange{Change: Change{Path: p, Old: o}, removed: true})
		default:
			diffValues(p, o, n, changes)
		}
	}
}

func diffLists(path string, old, new []any, changes *[]paramChange) {
	for i := 0; i < max(len(old), len(new)); i++ {
		p := indexPath(path, i)
		switch {
		case i >= len(old):
			*changes = append(*changes, paramChange{Change: Change{Path: p, New: new[i]}, added: true})
		case i >= len(new):
			*changes = append(*changes, paramChange{Change: Change{Path: p, Old: old[i]}, removed: true})
		default:
			diffValues(p, old[i], new[i], changes)
		}
	}
}

// sameLeaf compares two values of which at least one is not a container
// (or which are containers of different kinds).
func sameLeaf(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case bool:
		v, ok := b.(bool)
		return ok && a == v
	case float64:
		v, ok := b.(float64)
		return ok && a == v
	case string:
		v, ok := b.(string)
		return ok && a == v
	default:
		return reflect.DeepEqual(a, b)
	}
}

// formatValue writes a parameter value for a message: numbers in shortest
// round-trip form (0.0001, 1e-05), strings quoted, lists and objects in
// their canonical encoding.
func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case string:
		return strconv.Quote(v)
	}
	if data, err := Canonical(v); err == nil {
		return string(data)
	}
	return fmt.Sprint(v)
}
