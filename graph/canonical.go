package graph

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Canonical encodes a JSON-like value so that equal values give equal
// bytes. The encoding is JSON without spaces, with object keys sorted by
// byte order, numbers written by strconv.FormatFloat(f, 'g', -1, 64) (the
// shortest form that reads back as the same float64, with negative zero
// written as 0) and strings escaped as described at appendString.
//
// Accepted values are nil, bool, float64, string, []any and map[string]any,
// nested to any depth. A nil slice encodes as [] and a nil map as {}.
// Any other type, NaN, ±Inf and strings that are not valid UTF-8 are
// errors that name the path of the value, such as teacher.widths[1].
func Canonical(v any) ([]byte, error) {
	if buf, ok := appendFast(make([]byte, 0, 256), v); ok {
		return buf, nil
	}
	// The fast encoder does not track paths, so encode again with them to
	// name the value at fault.
	return appendCanonical(nil, v, "")
}

// appendFast is appendCanonical without the value paths, which cost an
// allocation per object key. It returns false on any value that
// appendCanonical rejects.
func appendFast(buf []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case nil:
		return append(buf, "null"...), true
	case bool:
		return strconv.AppendBool(buf, v), true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, false
		}
		if v == 0 {
			v = 0 // negative zero, see appendNumber
		}
		return strconv.AppendFloat(buf, v, 'g', -1, 64), true
	case string:
		if !utf8.ValidString(v) {
			return nil, false
		}
		return appendEscaped(buf, v), true
	case []any:
		buf = append(buf, '[')
		for i, elem := range v {
			if i > 0 {
				buf = append(buf, ',')
			}
			var ok bool
			if buf, ok = appendFast(buf, elem); !ok {
				return nil, false
			}
		}
		return append(buf, ']'), true
	case map[string]any:
		return appendFastObject(buf, v)
	}
	return nil, false
}

func appendFastObject(buf []byte, obj map[string]any) ([]byte, bool) {
	var stack [16]string
	keys := stack[:0]
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		if !utf8.ValidString(k) {
			return nil, false
		}
		buf = append(appendEscaped(buf, k), ':')
		var ok bool
		if buf, ok = appendFast(buf, obj[k]); !ok {
			return nil, false
		}
	}
	return append(buf, '}'), true
}

func appendCanonical(buf []byte, v any, path string) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case bool:
		return strconv.AppendBool(buf, v), nil
	case float64:
		return appendNumber(buf, v, path)
	case string:
		return appendString(buf, v, path)
	case []any:
		return appendList(buf, v, path)
	case map[string]any:
		return appendObject(buf, v, path)
	default:
		return nil, fmt.Errorf("canonical encoding: unsupported type %T at %s; "+
			"use nil, bool, float64, string, []any or map[string]any", v, describePath(path))
	}
}

func appendNumber(buf []byte, f float64, path string) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("canonical encoding: number %v at %s is not finite; "+
			"parameters must be finite numbers", f, describePath(path))
	}
	if f == 0 {
		// Negative zero compares equal to zero and gives the same results,
		// so it must give the same key.
		f = 0
	}
	return strconv.AppendFloat(buf, f, 'g', -1, 64), nil
}

// appendString writes s as a JSON string. It escapes '"' and '\' with a
// backslash, \b \f \n \r \t by their short forms and other bytes below
// 0x20 as \u00XX. Every other character, including '<', '>', '&' and
// non-ASCII text, is written as its UTF-8 bytes.
func appendString(buf []byte, s string, path string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("canonical encoding: string %q at %s is not valid UTF-8",
			s, describePath(path))
	}
	return appendEscaped(buf, s), nil
}

// appendEscaped writes the valid UTF-8 string s as appendString does.
func appendEscaped(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			buf = append(buf, '\\', c)
		case c == '\b':
			buf = append(buf, '\\', 'b')
		case c == '\f':
			buf = append(buf, '\\', 'f')
		case c == '\n':
			buf = append(buf, '\\', 'n')
		case c == '\r':
			buf = append(buf, '\\', 'r')
		case c == '\t':
			buf = append(buf, '\\', 't')
		case c < 0x20:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			buf = append(buf, c)
		}
	}
	return append(buf, '"')
}

func appendList(buf []byte, list []any, path string) ([]byte, error) {
	buf = append(buf, '[')
	for i, elem := range list {
		if i > 0 {
			buf = append(buf, ',')
		}
		var err error
		buf, err = appendCanonical(buf, elem, indexPath(path, i))
		if err != nil {
			return nil, err
		}
	}
	return append(buf, ']'), nil
}

func appendObject(buf []byte, obj map[string]any, path string) ([]byte, error) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		var err error
		buf, err = appendString(buf, k, path)
		if err != nil {
			return nil, err
		}
		buf = append(buf, ':')
		buf, err = appendCanonical(buf, obj[k], keyPath(path, k))
		if err != nil {
			return nil, err
		}
	}
	return append(buf, '}'), nil
}

// keyPath extends a value path by an object key: "optimizer" + "lr" is
// "optimizer.lr". Keys that are not identifiers are quoted in brackets,
// as in noise["scale factor"].
func keyPath(path, key string) string {
	if !isIdentifier(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// indexPath extends a value path by a list index: "widths" + 1 is
// "widths[1]".
func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func describePath(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

// isIdentifier reports whether s is an HCL identifier: a letter or '_'
// followed by letters, digits, '_' or '-'.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || isASCIILetter(r):
		case i > 0 && (r == '-' || (r >= '0' && r <= '9')):
		default:
			return false
		}
	}
	return true
}

func isASCIILetter(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
}
