package dsl

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// formatLiteral writes a sweep value as an HCL literal for a node address.
// Numbers use the shortest form that parses back to the same float64, with
// integers below 1e21 written without an exponent. Strings are left bare
// when they are plain identifiers and quoted otherwise.
func formatLiteral(v any) string {
	switch x := v.(type) {
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return formatNumber(x)
	case string:
		if isPlainIdentifier(x) {
			return x
		}
		return quoteHCL(x)
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}

func formatNumber(f float64) string {
	if f == 0 {
		return "0" // no "-0"
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// isPlainIdentifier reports whether s is made of ASCII letters, digits, '_'
// and '-' without a leading digit or '-'. The keywords true, false and null
// are not plain, because written bare they would read as a bool or null.
func isPlainIdentifier(s string) bool {
	if s == "" || s == "true" || s == "false" || s == "null" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case (c >= '0' && c <= '9') || c == '-':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// quoteHCL quotes s as an HCL string literal. Besides the JSON escapes it
// doubles the template introducers "${" and "%{", which HCL would
// otherwise read as interpolation.
func quoteHCL(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case (r == '$' || r == '%') && strings.HasPrefix(s[i+size:], "{"):
			b.WriteRune(r)
			b.WriteRune(r)
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

// formatAddress returns TYPE.NAME, followed for a swept block by
// [axis=value,...] in sweep-block order.
func formatAddress(blockType, name string, axisNames []string, values []any) string {
	if len(axisNames) == 0 {
		return blockType + "." + name
	}
	var b strings.Builder
	b.WriteString(blockType)
	b.WriteByte('.')
	b.WriteString(name)
	b.WriteByte('[')
	for i, axis := range axisNames {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(axis)
		b.WriteByte('=')
		b.WriteString(formatLiteral(values[i]))
	}
	b.WriteByte(']')
	return b.String()
}
