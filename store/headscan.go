package store

// maxScanDepth bounds the nesting of arrays and objects that scanHead
// validates. Deeper documents go to encoding/json, which has its own limit.
const maxScanDepth = 1000

// manifestFields are the top-level keys of a manifest, as encodeManifest
// writes them.
var manifestFields = []string{
	"format_version", "key", "run_id", "type", "kind", "version", "params", "inputs", "files",
}

// scanHead decodes the head of a manifest without encoding/json, which
// spent most of its time on reflection and on checking the JSON twice.
// It checks that the whole of data is valid JSON, as json.Unmarshal does.
// It returns false for any document that it cannot decode exactly as
// json.Unmarshal would, and the caller then uses json.Unmarshal. Those
// are documents with keys other than the manifest's fields, a key given
// twice, escapes or non-ASCII bytes in the decoded strings, a size that is
// not a plain whole number, or invalid JSON.
func scanHead(data []byte) (manifestHead, bool) {
	s := headScanner{data: data}
	h, ok := s.object()
	if !ok {
		return manifestHead{}, false
	}
	s.skipSpace()
	return h, s.pos == len(s.data)
}

// headScanner reads JSON from data, starting at pos.
type headScanner struct {
	data []byte
	pos  int
}

// object decodes the top-level manifest object.
func (s *headScanner) object() (manifestHead, bool) {
	var h manifestHead
	seen := 0
	ok := s.members(false, func(name []byte) bool {
		field := fieldIndex(name)
		if field < 0 || seen&(1<<field) != 0 {
			return false
		}
		seen |= 1 << field
		var ok bool
		switch manifestFields[field] {
		case "format_version":
			h.FormatVersion, ok = s.plainString()
		case "key":
			h.Key, ok = s.plainString()
		case "run_id":
			h.RunID, ok = s.plainString()
		case "files":
			h.Files, ok = s.files()
		default:
			ok = s.value(0)
		}
		return ok
	})
	return h, ok
}

// fieldIndex returns the index of name in manifestFields, or -1.
func fieldIndex(name []byte) int {
	for i, f := range manifestFields {
		if string(name) == f {
			return i
		}
	}
	return -1
}

// files decodes the array of output files.
func (s *headScanner) files() ([]ManifestFile, bool) {
	files := []ManifestFile{}
	ok := s.elements(func() bool {
		var f ManifestFile
		seen := 0
		ok := s.members(false, func(name []byte) bool {
			var bit int
			var ok bool
			switch string(name) {
			case "name":
				bit = 1
				f.Name, ok = s.plainString()
			case "size":
				bit = 2
				f.Size, ok = s.plainInt()
			case "sha256":
				bit = 4
				f.SHA256, ok = s.plainString()
			}
			if seen&bit != 0 {
				return false
			}
			seen |= bit
			return ok
		})
		files = append(files, f)
		return ok
	})
	return files, ok
}

// members reads an object and calls member after each key and its colon,
// to read the value. With anyKeys false, every key must be printable ASCII
// without escapes and member receives it. With anyKeys true, keys are
// only checked and member receives nil.
func (s *headScanner) members(anyKeys bool, member func(name []byte) bool) bool {
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return true
	}
	for {
		var name []byte
		ok := false
		if anyKeys {
			ok = s.consume('"') && s.anyString()
		} else {
			name, ok = s.plainBytes()
		}
		if !ok || !s.consume(':') || !member(name) {
			return false
		}
		if s.consume('}') {
			return true
		}
		if !s.consume(',') {
			return false
		}
	}
}

// elements reads an array and calls element for each of its values.
func (s *headScanner) elements(element func() bool) bool {
	if !s.consume('[') {
		return false
	}
	if s.consume(']') {
		return true
	}
	for {
		if !element() {
			return false
		}
		if s.consume(']') {
			return true
		}
		if !s.consume(',') {
			return false
		}
	}
}

// plainString reads a string of printable ASCII without escapes, which
// decodes to its own bytes.
func (s *headScanner) plainString() (string, bool) {
	text, ok := s.plainBytes()
	return string(text), ok
}

// plainBytes is plainString without the copy: the bytes are part of data.
func (s *headScanner) plainBytes() ([]byte, bool) {
	if !s.consume('"') {
		return nil, false
	}
	start := s.pos
	for ; s.pos < len(s.data); s.pos++ {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return s.data[start : s.pos-1], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

// plainInt reads a whole number without sign, fraction or exponent that
// fits in an int64.
func (s *headScanner) plainInt() (int64, bool) {
	s.skipSpace()
	start := s.pos
	var n int64
	for ; s.pos < len(s.data) && isDigit(s.data[s.pos]); s.pos++ {
		d := int64(s.data[s.pos] - '0')
		if n > (1<<63-1-d)/10 {
			return 0, false
		}
		n = 10*n + d
	}
	switch {
	case s.pos == start, s.pos-start > 1 && s.data[start] == '0':
		return 0, false
	case s.pos < len(s.data) && (s.data[s.pos] == '.' || s.data[s.pos] == 'e' || s.data[s.pos] == 'E'):
		return 0, false
	}
	return n, true
}

// value checks one JSON value of any type and skips it.
func (s *headScanner) value(depth int) bool {
	if depth > maxScanDepth {
		return false
	}
	s.skipSpace()
	if s.pos >= len(s.data) {
		return false
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.members(true, func([]byte) bool { return s.value(depth + 1) })
	case c == '[':
		return s.elements(func() bool { return s.value(depth + 1) })
	case c == '"':
		s.pos++
		return s.anyString()
	case c == '-' || isDigit(c):
		return s.number()
	default:
		return s.literal("true") || s.literal("false") || s.literal("null")
	}
}

// anyString checks the rest of a string after its opening quote, with any
// escapes, and skips it. Bytes of 0x80 and above are accepted, as
// encoding/json accepts them.
func (s *headScanner) anyString() bool {
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		s.pos++
		switch {
		case c == '"':
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if !s.escape() {
				return false
			}
		}
	}
	return false
}

// escape checks the escape after a backslash and skips it.
func (s *headScanner) escape() bool {
	if s.pos >= len(s.data) {
		return false
	}
	c := s.data[s.pos]
	s.pos++
	switch c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return true
	case 'u':
		if s.pos+4 > len(s.data) {
			return false
		}
		for _, h := range s.data[s.pos : s.pos+4] {
			if !isDigit(h) && !(h >= 'a' && h <= 'f') && !(h >= 'A' && h <= 'F') {
				return false
			}
		}
		s.pos += 4
		return true
	}
	return false
}

// number checks a JSON number, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?,
// and skips it.
func (s *headScanner) number() bool {
	if s.data[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(s.data) && s.data[s.pos] == '0':
		s.pos++
	case !s.digits():
		return false
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if !s.digits() {
			return false
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits skips one or more decimal digits and reports whether there was one.
func (s *headScanner) digits() bool {
	start := s.pos
	for s.pos < len(s.data) && isDigit(s.data[s.pos]) {
		s.pos++
	}
	return s.pos > start
}

func (s *headScanner) literal(word string) bool {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return false
	}
	s.pos += len(word)
	return true
}

// consume skips white space and then c, and reports whether c was there.
func (s *headScanner) consume(c byte) bool {
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

func (s *headScanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
