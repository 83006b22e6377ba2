package dsl

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"

	"github.com/zclconf/go-cty/cty"
)

// toGo converts a wholly known cty value to the JSON-like Go form that
// Registry.Normalize receives. Numbers become float64, and a number whose
// magnitude does not fit a float64 is an error.
func toGo(v cty.Value) (any, error) {
	return toGoAt(v, "")
}

func toGoAt(v cty.Value, path string) (any, error) {
	if !v.IsKnown() {
		return nil, fmt.Errorf("%svalue is not known", pathPrefix(path))
	}
	if v.IsNull() {
		return nil, nil
	}
	ty := v.Type()
	switch {
	case ty == refType:
		return *v.EncapsulatedValue().(*Ref), nil
	case ty == cty.Bool:
		return v.True(), nil
	case ty == cty.Number:
		return numberToFloat(v.AsBigFloat(), path)
	case ty == cty.String:
		return v.AsString(), nil
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		list := make([]any, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, elem := it.Element()
			g, err := toGoAt(elem, path+"["+strconv.Itoa(len(list))+"]")
			if err != nil {
				return nil, err
			}
			list = append(list, g)
		}
		return list, nil
	case ty.IsMapType() || ty.IsObjectType():
		obj := make(map[string]any, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			key, elem := it.Element()
			name := key.AsString()
			g, err := toGoAt(elem, path+"["+strconv.Quote(name)+"]")
			if err != nil {
				return nil, err
			}
			obj[name] = g
		}
		return obj, nil
	default:
		return nil, fmt.Errorf("%svalue of type %s is not supported", pathPrefix(path), ty.FriendlyName())
	}
}

func pathPrefix(path string) string {
	if path == "" {
		return ""
	}
	return "element " + path + ": "
}

// maxExactCheck bounds the integers that numberToFloat requires to be
// exact: 2^64 covers every 64-bit seed, and larger integers such as 1e300
// are written as floats.
var maxExactCheck = new(big.Float).SetMantExp(big.NewFloat(1), 64)

// numberToFloat rounds a cty number to the nearest float64. Rounding of
// fractional digits is accepted, but overflow to infinity, underflow of a
// non-zero number to zero, and an integer below 2^64 in magnitude that a
// float64 cannot hold exactly (so that two seeds would give one key) are
// errors.
func numberToFloat(bf *big.Float, path string) (float64, error) {
	f, accuracy := bf.Float64()
	magnitude := new(big.Float).Abs(bf)
	if bf.IsInt() && accuracy != big.Exact && magnitude.Cmp(maxExactCheck) < 0 {
		return 0, fmt.Errorf("%sinteger %s cannot be held exactly by a 64-bit float, which rounds "+
			"it to %s; use an integer of magnitude at most 2^53 = 9007199254740992",
			pathPrefix(path), bf.Text('f', 0), strconv.FormatFloat(f, 'f', 0, 64))
	}
	if math.IsInf(f, 0) {
		return 0, fmt.Errorf("%snumber %s is too large for a 64-bit float (max about 1.8e308)",
			pathPrefix(path), bf.Text('g', 10))
	}
	if f == 0 && bf.Sign() != 0 {
		return 0, fmt.Errorf("%snumber %s is too small for a 64-bit float (min about 4.9e-324)",
			pathPrefix(path), bf.Text('g', 10))
	}
	if f == 0 {
		return 0, nil // no negative zero
	}
	return f, nil
}

// fromGo converts a value returned by Registry.Normalize back to cty, for a
// model block whose parameters another block inlines.
func fromGo(v any) (cty.Value, error) {
	switch x := v.(type) {
	case nil:
		return cty.NullVal(cty.DynamicPseudoType), nil
	case bool:
		return cty.BoolVal(x), nil
	case string:
		return cty.StringVal(x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return cty.NilVal, fmt.Errorf("number %v is not finite", x)
		}
		return cty.NumberFloatVal(x), nil
	case Ref:
		return refValue(x), nil
	case map[string]any:
		return objectFromGo(x)
	case []any:
		return tupleFromGo(x)
	}
	return fromGoReflect(reflect.ValueOf(v))
}

func objectFromGo(m map[string]any) (cty.Value, error) {
	if len(m) == 0 {
		return cty.EmptyObjectVal, nil
	}
	attrs := make(map[string]cty.Value, len(m))
	for k, elem := range m {
		c, err := fromGo(elem)
		if err != nil {
			return cty.NilVal, fmt.Errorf("attribute %q: %w", k, err)
		}
		attrs[k] = c
	}
	return cty.ObjectVal(attrs), nil
}

func tupleFromGo(list []any) (cty.Value, error) {
	if len(list) == 0 {
		return cty.EmptyTupleVal, nil
	}
	elems := make([]cty.Value, len(list))
	for i, elem := range list {
		c, err := fromGo(elem)
		if err != nil {
			return cty.NilVal, fmt.Errorf("element %d: %w", i, err)
		}
		elems[i] = c
	}
	return cty.TupleVal(elems), nil
}

// fromGoReflect handles the typed numbers, slices and maps that a registry
// may return in place of float64, []any and map[string]any.
func fromGoReflect(rv reflect.Value) (cty.Value, error) {
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return cty.NumberIntVal(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return cty.NumberUIntVal(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return fromGo(rv.Float())
	case reflect.Slice, reflect.Array:
		list := make([]any, rv.Len())
		for i := range list {
			list[i] = rv.Index(i).Interface()
		}
		return tupleFromGo(list)
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		m := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			m[it.Key().String()] = it.Value().Interface()
		}
		return objectFromGo(m)
	}
	return cty.NilVal, fmt.Errorf("value of Go type %s is not JSON-like", rv.Type())
}

// containsNestedRef reports whether a reference appears inside a list, set,
// map or object value rather than as the value itself.
func containsNestedRef(v cty.Value) bool {
	if !v.IsKnown() || v.IsNull() {
		return false
	}
	ty := v.Type()
	if !ty.IsCollectionType() && !ty.IsTupleType() && !ty.IsObjectType() {
		return false
	}
	found := false
	cty.Walk(v, func(_ cty.Path, elem cty.Value) (bool, error) {
		if elem.Type() == refType {
			found = true
		}
		return !found, nil
	})
	return found
}

// sortedKeys returns the keys of a map in lexical order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
