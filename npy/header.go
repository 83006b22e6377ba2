package npy

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// magic opens every .npy file.
const magic = "\x93NUMPY"

// headerAlign is the alignment of the data offset that NumPy writes.
const headerAlign = 64

// Dtype descriptors of the supported element types.
const (
	descrFloat64 = "<f8"
	descrInt64   = "<i8"
)

// header is the decoded header dict of a .npy file.
type header struct {
	descr        string
	fortranOrder bool
	shape        []int
}

// formatHeader returns the preamble and header of a version 1.0 file, padded
// so that the data starts at a multiple of headerAlign.
func formatHeader(descr string, shape []int) ([]byte, error) {
	var dims strings.Builder
	for i, d := range shape {
		if i > 0 {
			dims.WriteString(", ")
		}
		dims.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		dims.WriteString(",")
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, dims.String())

	// Preamble (10 bytes) + dict + padding + "\n" is a multiple of 64.
	const preambleLen = len(magic) + 2 + 2
	total := (preambleLen + len(dict) + 1 + headerAlign - 1) / headerAlign * headerAlign
	headerLen := total - preambleLen
	if headerLen > math.MaxUint16 {
		return nil, fmt.Errorf("header of %d bytes exceeds the 65535 of format 1.0: shape has too many dimensions", headerLen)
	}

	buf := make([]byte, 0, total)
	buf = append(buf, magic...)
	buf = append(buf, 1, 0, byte(headerLen), byte(headerLen>>8))
	buf = append(buf, dict...)
	for len(buf) < total-1 {
		buf = append(buf, ' ')
	}
	return append(buf, '\n'), nil
}

// parseHeader decodes the header dict that follows the preamble. It accepts
// the Python literal syntax that NumPy writes and reads: single or double
// quoted strings, True and False, tuples of non-negative integers, optional
// trailing commas and whitespace.
func parseHeader(text string) (header, error) {
	p := &headerParser{text: text}
	h, err := p.parseDict()
	if err != nil {
		return header{}, fmt.Errorf("invalid header %q: %w", truncate(text, 200), err)
	}
	return h, nil
}

// headerParser is a cursor over the header text.
type headerParser struct {
	text string
	pos  int
}

func (p *headerParser) parseDict() (header, error) {
	var h header
	seen := map[string]bool{}
	p.skipSpace()
	if err := p.expect('{'); err != nil {
		return h, err
	}
	for {
		p.skipSpace()
		if p.peek() == '}' {
			p.pos++
			break
		}
		key, err := p.parseString()
		if err != nil {
			return h, fmt.Errorf("key: %w", err)
		}
		if seen[key] {
			return h, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		p.skipSpace()
		if err := p.expect(':'); err != nil {
			return h, err
		}
		p.skipSpace()
		if err := p.parseValue(key, &h); err != nil {
			return h, err
		}
		p.skipSpace()
		if p.peek() == ',' {
			p.pos++
			continue
		}
		p.skipSpace()
		if err := p.expect('}'); err != nil {
			return h, err
		}
		break
	}
	p.skipSpace()
	if p.pos != len(p.text) {
		return h, fmt.Errorf("unexpected text after the dict at byte %d", p.pos)
	}
	for _, key := range []string{"descr", "fortran_order", "shape"} {
		if !seen[key] {
			return h, fmt.Errorf("missing key %q", key)
		}
	}
	return h, nil
}

func (p *headerParser) parseValue(key string, h *header) error {
	var err error
	switch key {
	case "descr":
		h.descr, err = p.parseString()
	case "fortran_order":
		h.fortranOrder, err = p.parseBool()
	case "shape":
		h.shape, err = p.parseShape()
	default:
		return fmt.Errorf("unknown key %q, want 'descr', 'fortran_order' and 'shape'", key)
	}
	if err != nil {
		return fmt.Errorf("value of %q: %w", key, err)
	}
	return nil
}

func (p *headerParser) parseString() (string, error) {
	quote := p.peek()
	if quote != '\'' && quote != '"' {
		return "", fmt.Errorf("expected a quoted string at byte %d", p.pos)
	}
	start := p.pos + 1
	end := strings.IndexByte(p.text[start:], quote)
	if end < 0 {
		return "", fmt.Errorf("unterminated string at byte %d", p.pos)
	}
	s := p.text[start : start+end]
	if strings.ContainsRune(s, '\\') {
		return "", fmt.Errorf("escape sequences in strings are not supported, at byte %d", p.pos)
	}
	p.pos = start + end + 1
	return s, nil
}

func (p *headerParser) parseBool() (bool, error) {
	switch {
	case strings.HasPrefix(p.text[p.pos:], "True"):
		p.pos += len("True")
		return true, nil
	case strings.HasPrefix(p.text[p.pos:], "False"):
		p.pos += len("False")
		return false, nil
	}
	return false, fmt.Errorf("expected True or False at byte %d", p.pos)
}

// parseShape reads a tuple such as (), (3,) or (2, 3).
func (p *headerParser) parseShape() ([]int, error) {
	if err := p.expect('('); err != nil {
		return nil, err
	}
	shape := []int{}
	for {
		p.skipSpace()
		if p.peek() == ')' {
			p.pos++
			break
		}
		d, err := p.parseDim()
		if err != nil {
			return nil, err
		}
		shape = append(shape, d)
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
		case ')':
			if len(shape) == 1 {
				// Python reads (3) as the integer 3, not a tuple.
				return nil, fmt.Errorf("one-element tuple without a trailing comma at byte %d", p.pos)
			}
		default:
			return nil, fmt.Errorf("expected ',' or ')' at byte %d", p.pos)
		}
	}
	return shape, nil
}

func (p *headerParser) parseDim() (int, error) {
	start := p.pos
	for p.pos < len(p.text) && p.text[p.pos] >= '0' && p.text[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == start {
		return 0, fmt.Errorf("expected a non-negative integer at byte %d", start)
	}
	d, err := strconv.Atoi(p.text[start:p.pos])
	if err != nil {
		return 0, fmt.Errorf("dimension %s at byte %d is out of range", p.text[start:p.pos], start)
	}
	return d, nil
}

func (p *headerParser) expect(c byte) error {
	if p.peek() != c {
		return fmt.Errorf("expected %q at byte %d", c, p.pos)
	}
	p.pos++
	return nil
}

// peek returns the byte at the cursor, or 0 at the end of the text.
func (p *headerParser) peek() byte {
	if p.pos >= len(p.text) {
		return 0
	}
	return p.text[p.pos]
}

func (p *headerParser) skipSpace() {
	for p.pos < len(p.text) && strings.IndexByte(" \t\r\n", p.text[p.pos]) >= 0 {
		p.pos++
	}
}

// numElements returns the product of the dimensions, or an error when it
// overflows an int.
func numElements(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in shape %v", d, shape)
		}
		if d != 0 && n > math.MaxInt/8/d {
			return 0, fmt.Errorf("shape %v has too many elements", shape)
		}
		n *= d
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
