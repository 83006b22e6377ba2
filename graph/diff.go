package graph

import (
	"fmt"
	"reflect"
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
// in path order: the changed leaves of compareParams. Maps are compared
// key by key and lists index by index, so a list that grows reports its
// new elements as added.
func diffParams(old, new map[string]any) []paramChange {
	var changes []paramChange
	for _, c := range compareParams(old, new) {
		if c.Changed {
			changes = append(changes, paramChange{Change: Change{Path: c.Path, Old: c.Old, New: c.New},
				added: !c.InOld, removed: !c.InNew})
		}
	}
	return changes
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
