package graph

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// patternForms lists the accepted pattern forms, for error messages.
const patternForms = `TYPE (sampler), TYPE.NAME (sampler.sgld) or ` +
	`TYPE.NAME[axis=value,...] (erm.fit[seed=1])`

// Pattern selects nodes by whole address segments. "sampler" matches every
// sampler node, "sampler.sgld" matches sampler.sgld and every sweep
// instance of it such as sampler.sgld[seed=0] but not sampler.sgld_rms,
// and "erm.fit[seed=1]" matches every instance of erm.fit whose seed axis
// is 1, whatever its other axes are. The zero Pattern matches nothing.
type Pattern struct {
	text string
	typ  string
	name string
	axes []patternAxis
}

// patternAxis is one axis=value condition of a pattern. A number matches
// an equal number, a quoted string or a bare identifier matches an equal
// string, and the bare words true, false and null also match the HCL
// literal of that name.
type patternAxis struct {
	name    string
	literal string
	value   any
	bare    bool
}

var numberLiteral = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// ParsePattern parses an address pattern. The accepted forms are TYPE,
// TYPE.NAME and TYPE.NAME[axis=value,...], where TYPE, NAME and the axes
// are identifiers and each value is a number, a quoted string, or a bare
// identifier standing for a string.
func ParsePattern(s string) (Pattern, error) {
	p := Pattern{text: s}
	head, rest, hasAxes := strings.Cut(s, "[")
	typ, name, hasName := strings.Cut(head, ".")
	switch {
	case !isIdentifier(typ):
		return Pattern{}, patternError(s, fmt.Errorf("the type %q is not an identifier", typ))
	case hasName && !isIdentifier(name):
		return Pattern{}, patternError(s, fmt.Errorf("the name %q is not an identifier", name))
	case hasAxes && !hasName:
		return Pattern{}, patternError(s, errors.New("axis values need TYPE.NAME before the '['"))
	}
	p.typ, p.name = typ, name
	if !hasAxes {
		return p, nil
	}

	axes, err := parseAxes(rest)
	if err != nil {
		return Pattern{}, patternError(s, err)
	}
	p.axes = axes
	return p, nil
}

func patternError(s string, err error) error {
	return fmt.Errorf("invalid address pattern %q: %v; the accepted forms are %s",
		s, err, patternForms)
}

// parseAxes parses `axis=value,...]`, the part of a pattern after '['.
func parseAxes(s string) ([]patternAxis, error) {
	var axes []patternAxis
	seen := map[string]bool{}
	for {
		name, rest, ok := strings.Cut(s, "=")
		name = strings.TrimSpace(name)
		if !ok || !isIdentifier(name) {
			return nil, errors.New("expected axis=value inside the brackets")
		}
		if seen[name] {
			return nil, fmt.Errorf("axis %s is given twice", name)
		}
		seen[name] = true

		axis, rest, err := parseAxisValue(name, strings.TrimLeft(rest, " "))
		if err != nil {
			return nil, err
		}
		axes = append(axes, axis)

		rest = strings.TrimLeft(rest, " ")
		switch {
		case rest == "]":
			return axes, nil
		case strings.HasPrefix(rest, "]"):
			return nil, fmt.Errorf("unexpected %q after the closing ']'", rest[1:])
		case strings.HasPrefix(rest, ","):
			s = rest[1:]
		default:
			return nil, fmt.Errorf("expected ',' or ']' after the value of axis %s", name)
		}
	}
}

// parseAxisValue parses the value at the start of s and returns the rest.
func parseAxisValue(name, s string) (patternAxis, string, error) {
	axis := patternAxis{name: name}
	if strings.HasPrefix(s, `"`) {
		end := closingQuote(s)
		if end < 0 {
			return axis, "", fmt.Errorf("the string value of axis %s has no closing quote", name)
		}
		text, err := strconv.Unquote(s[:end+1])
		if err != nil {
			return axis, "", fmt.Errorf("the string value of axis %s is invalid: %v", name, err)
		}
		axis.literal, axis.value = s[:end+1], text
		return axis, s[end+1:], nil
	}

	end := strings.IndexAny(s, ",]")
	if end < 0 {
		return axis, "", errors.New("missing closing ']'")
	}
	literal := strings.TrimSpace(s[:end])
	axis.literal = literal
	switch {
	case numberLiteral.MatchString(literal):
		f, err := strconv.ParseFloat(literal, 64)
		if err != nil {
			return axis, "", fmt.Errorf("the number value of axis %s is out of range", name)
		}
		axis.value = f
	case isIdentifier(literal):
		axis.value, axis.bare = literal, true
	default:
		return axis, "", fmt.Errorf("the value %q of axis %s is not a number, "+
			"a quoted string or an identifier", literal, name)
	}
	return axis, s[end:], nil
}

// closingQuote returns the index of the quote that ends the string
// literal at the start of s, or -1.
func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// String returns the pattern as it was written.
func (p Pattern) String() string { return p.text }

// Match reports whether the pattern selects the node.
func (p Pattern) Match(n *Node) bool {
	if p.typ == "" {
		return false
	}
	typ, name := n.Type, n.Name
	if typ == "" || name == "" {
		typ, name = splitAddress(n.Address)
	}
	if typ != p.typ || (p.name != "" && name != p.name) {
		return false
	}
	for _, want := range p.axes {
		if !want.matchAny(n.Axes) {
			return false
		}
	}
	return true
}

func (a patternAxis) matchAny(axes []AxisValue) bool {
	for _, av := range axes {
		if av.Name == a.name {
			return a.matchValue(av.Value)
		}
	}
	return false
}

// NOTE: list and object axis values never match, because patterns have no
// syntax for them.
func (a patternAxis) matchValue(v any) bool {
	switch v := v.(type) {
	case float64:
		f, ok := a.value.(float64)
		return ok && f == v
	case string:
		s, ok := a.value.(string)
		return ok && s == v
	case bool:
		return a.bare && a.literal == strconv.FormatBool(v)
	case nil:
		return a.bare && a.literal == "null"
	default:
		return false
	}
}

// splitAddress returns the TYPE and NAME of an address TYPE.NAME[...].
func splitAddress(address string) (typ, name string) {
	head, _, _ := strings.Cut(address, "[")
	typ, name, _ = strings.Cut(head, ".")
	return typ, name
}
