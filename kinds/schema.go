package kinds

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/llcflow/llcflow/dsl"
)

// AttrType is the type of a block attribute.
type AttrType int

const (
	Number   AttrType = iota // any finite number
	Int                      // a whole number
	String                   // a string
	Bool                     // true or false
	IntList                  // a list of whole numbers
	NumList                  // a list of numbers
	Object                   // a nested object with its own attributes
	NodeRef                  // a reference to a node block (Attr.RefType)
	ModelRef                 // a reference to a model block, inlined by the DSL
)

// Attr describes one attribute of a block kind.
type Attr struct {
	Name string
	Type AttrType
	// Default is filled in when the attribute is absent. A nil Default
	// makes the attribute required unless Optional is set.
	Default any
	// Optional attributes may be absent and then stay absent (nil).
	Optional bool
	// Enum lists the accepted strings of a String attribute.
	Enum []string
	// Min and Max bound numbers (and list elements) when set; MinExcl
	// makes Min exclusive.
	Min, Max *float64
	MinExcl  bool
	// Fields are the attributes of an Object.
	Fields []Attr
	// RefType is the block type a NodeRef must point at.
	RefType string
	// Doc is a one-line description for help text.
	Doc string
}

func ptr(f float64) *float64 { return &f }

// positive returns bounds for a number that must be > 0.
func positive(a Attr) Attr { a.Min, a.MinExcl = ptr(0), true; return a }

// nonNegative returns bounds for a number that must be ≥ 0.
func nonNegative(a Attr) Attr { a.Min = ptr(0); return a }

// atLeast returns bounds for a number that must be ≥ lo.
func atLeast(a Attr, lo float64) Attr { a.Min = ptr(lo); return a }

// normalizeAttrs checks attrs against the schema and returns them with
// defaults filled in. Every problem is reported, not only the first.
func normalizeAttrs(schema []Attr, attrs map[string]any, prefix string) (map[string]any, []dsl.FieldError) {
	out := make(map[string]any, len(schema))
	var errs []dsl.FieldError
	known := make(map[string]bool, len(schema))
	for _, a := range schema {
		known[a.Name] = true
	}
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	sort.Strings(names)
	top := func(name string) string {
		if prefix != "" {
			return strings.SplitN(prefix, ".", 2)[0]
		}
		return name
	}
	for _, name := range names {
		if known[name] {
			continue
		}
		detail := fmt.Sprintf("An argument named %q is not expected here.", prefix+name)
		if s := suggest(name, schema); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		} else {
			detail += " Valid arguments: " + attrNames(schema) + "."
		}
		attr := top(name)
		errs = append(errs, dsl.FieldError{Attr: attr, Summary: "Unsupported argument", Detail: detail})
	}
	for _, a := range schema {
		v, present := attrs[a.Name]
		if !present || v == nil {
			switch {
			case a.Type == Object && a.Default == nil && !a.Optional:
				// An absent object takes the defaults of its fields.
				v = map[string]any{}
			case a.Default != nil:
				out[a.Name] = cloneValue(a.Default)
				continue
			case a.Optional:
				continue
			default:
				errs = append(errs, dsl.FieldError{
					Attr:    top(a.Name),
					Summary: "Missing required argument",
					Detail:  fmt.Sprintf("The argument %q is required (%s).", prefix+a.Name, a.Doc),
				})
				continue
			}
		}
		nv, err := checkValue(a, v, prefix+a.Name)
		if err != nil {
			errs = append(errs, err...)
			continue
		}
		out[a.Name] = nv
	}
	for i := range errs {
		if errs[i].Attr == "" && prefix != "" {
			errs[i].Attr = top("")
		}
	}
	return out, errs
}

func checkValue(a Attr, v any, path string) (any, []dsl.FieldError) {
	fail := func(format string, args ...any) []dsl.FieldError {
		name := strings.SplitN(path, ".", 2)[0]
		return []dsl.FieldError{{Attr: name, Summary: "Invalid value", Detail: fmt.Sprintf(format, args...)}}
	}
	switch a.Type {
	case Number, Int:
		f, ok := v.(float64)
		if !ok {
			return nil, fail("The argument %q must be a number, got %s.", path, describe(v))
		}
		if a.Type == Int && f != math.Trunc(f) {
			return nil, fail("The argument %q must be a whole number, got %s.", path, formatNum(f))
		}
		if msg := checkRange(a, f); msg != "" {
			return nil, fail("The argument %q %s, got %s.", path, msg, formatNum(f))
		}
		return f, nil
	case String:
		s, ok := v.(string)
		if !ok {
			return nil, fail("The argument %q must be a string, got %s.", path, describe(v))
		}
		if len(a.Enum) > 0 && !contains(a.Enum, s) {
			return nil, fail("The argument %q must be one of %s, got %q.", path, quoteList(a.Enum), s)
		}
		return s, nil
	case Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, fail("The argument %q must be true or false, got %s.", path, describe(v))
		}
		return b, nil
	case IntList, NumList:
		list, ok := v.([]any)
		if !ok {
			return nil, fail("The argument %q must be a list of numbers, got %s.", path, describe(v))
		}
		out := make([]any, len(list))
		for i, e := range list {
			f, ok := e.(float64)
			if !ok {
				return nil, fail("Element %d of %q must be a number, got %s.", i, path, describe(e))
			}
			if a.Type == IntList && f != math.Trunc(f) {
				return nil, fail("Element %d of %q must be a whole number, got %s.", i, path, formatNum(f))
			}
			if msg := checkRange(a, f); msg != "" {
				return nil, fail("Element %d of %q %s, got %s.", i, path, msg, formatNum(f))
			}
			out[i] = f
		}
		return out, nil
	case Object:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fail("The argument %q must be an object such as { key = value }, got %s.", path, describe(v))
		}
		return normalizeAttrs(a.Fields, m, path+".")
	case NodeRef:
		ref, ok := v.(dsl.Ref)
		if !ok || ref.Type != a.RefType {
			return nil, fail("The argument %q must refer to %s %s block, such as %s.NAME, got %s.", path, article(a.RefType), a.RefType, a.RefType, describe(v))
		}
		return ref, nil
	case ModelRef:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fail("The argument %q must refer to a model block, such as model.NAME, got %s.", path, describe(v))
		}
		return m, nil
	}
	panic(fmt.Sprintf("kinds: unknown attribute type %d", a.Type))
}

func checkRange(a Attr, f float64) string {
	if a.Min != nil {
		if a.MinExcl && f <= *a.Min {
			return "must be greater than " + formatNum(*a.Min)
		}
		if !a.MinExcl && f < *a.Min {
			return "must be at least " + formatNum(*a.Min)
		}
	}
	if a.Max != nil && f > *a.Max {
		return "must be at most " + formatNum(*a.Max)
	}
	return ""
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", x)
	case float64:
		return "the number " + formatNum(x)
	case bool:
		return fmt.Sprintf("the bool %v", x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case dsl.Ref:
		return "a reference to " + x.Address
	}
	return fmt.Sprintf("%T", v)
}

func formatNum(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return fmt.Sprintf("%d", int64(f))
	}
	return fmt.Sprintf("%v", f)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func attrNames(schema []Attr) string {
	names := make([]string, len(schema))
	for i, a := range schema {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}

// suggest returns the schema attribute closest to name when it is close
// enough to be a likely typo.
func suggest(name string, schema []Attr) string {
	best, bestDist := "", 3
	for _, a := range schema {
		if d := levenshtein(name, a.Name); d < bestDist {
			best, bestDist = a.Name, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cloneValue(e)
		}
		return out
	}
	return v
}

// article returns "an" before a vowel and "a" otherwise.
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}
