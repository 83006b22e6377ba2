package npy

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// elementSize is the size in bytes of both supported element types.
const elementSize = 8

// chunkElements is the number of elements encoded or decoded per buffer.
const chunkElements = 8192

// Write writes data as a float64 array of the given shape to path,
// replacing any existing file atomically. len(data) must equal the product
// of shape, and an empty shape writes a scalar.
func Write(path string, shape []int, data []float64) error {
	return writeFile(path, descrFloat64, shape, len(data), func(i int) uint64 {
		return math.Float64bits(data[i])
	})
}

// WriteInt64 writes data as an int64 array of the given shape to path, like
// Write.
func WriteInt64(path string, shape []int, data []int64) error {
	return writeFile(path, descrInt64, shape, len(data), func(i int) uint64 {
		return uint64(data[i])
	})
}

// Read reads a float64 ('<f8') array from path and returns its shape and
// its elements in C order.
func Read(path string) (shape []int, data []float64, err error) {
	shape, words, err := readFile(path, descrFloat64)
	if err != nil {
		return nil, nil, err
	}
	data = make([]float64, len(words))
	for i, w := range words {
		data[i] = math.Float64frombits(w)
	}
	return shape, data, nil
}

// ReadInt64 reads an int64 ('<i8') array from path, like Read.
func ReadInt64(path string) (shape []int, data []int64, err error) {
	shape, words, err := readFile(path, descrInt64)
	if err != nil {
		return nil, nil, err
	}
	data = make([]int64, len(words))
	for i, w := range words {
		data[i] = int64(w)
	}
	return shape, data, nil
}

// writeFile writes the header and the n little-endian words that word
// returns to a temporary file next to path, syncs it and renames it over
// path.
func writeFile(path, descr string, shape []int, n int, word func(i int) uint64) error {
	want, err := numElements(shape)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if want != n {
		return fmt.Errorf("write %s: shape %v has %d elements but data has %d", path, shape, want, n)
	}
	head, err := formatHeader(descr, shape)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}

	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	if err := encode(tmp, head, n, word); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// CreateTemp makes the file 0600, but .npy files are data for other tools.
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	committed = true
	return syncDir(dir)
}

func encode(w io.Writer, head []byte, n int, word func(i int) uint64) error {
	bw := bufio.NewWriterSize(w, chunkElements*elementSize)
	if _, err := bw.Write(head); err != nil {
		return err
	}
	var b [elementSize]byte
	for i := range n {
		binary.LittleEndian.PutUint64(b[:], word(i))
		if _, err := bw.Write(b[:]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// readFile reads an array whose dtype must be descr and returns its shape and
// its elements as little-endian words.
func readFile(path, descr string) ([]int, []uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}

	r := bufio.NewReaderSize(f, chunkElements*elementSize)
	h, offset, err := readHeader(r)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if err := checkHeader(h, descr); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	n, err := numElements(h.shape)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	// Compare sizes before allocating, so a corrupt shape cannot request
	// more memory than the file could fill.
	if wantSize := offset + int64(n)*elementSize; info.Size() != wantSize {
		return nil, nil, fmt.Errorf("read %s: file has %d bytes but shape %v needs %d: the file is truncated or corrupt",
			path, info.Size(), h.shape, wantSize)
	}

	words := make([]uint64, n)
	var b [elementSize]byte
	for i := range words {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, nil, fmt.Errorf("read %s: element %d: %w", path, i, err)
		}
		words[i] = binary.LittleEndian.Uint64(b[:])
	}
	return h.shape, words, nil
}

// readHeader reads the preamble and header and returns the header and the
// offset of the data.
func readHeader(r io.Reader) (header, int64, error) {
	var pre [len(magic) + 2]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return header{}, 0, fmt.Errorf("not a .npy file: %w", err)
	}
	if string(pre[:len(magic)]) != magic {
		return header{}, 0, fmt.Errorf("not a .npy file: magic string %q missing", magic)
	}
	major, minor := pre[len(magic)], pre[len(magic)+1]

	var headerLen, lenSize int
	switch major {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return header{}, 0, fmt.Errorf("header length: %w", err)
		}
		headerLen, lenSize = int(binary.LittleEndian.Uint16(b[:])), 2
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return header{}, 0, fmt.Errorf("header length: %w", err)
		}
		headerLen, lenSize = int(binary.LittleEndian.Uint32(b[:])), 4
	default:
		return header{}, 0, fmt.Errorf("format version %d.%d is not supported, want 1.0, 2.0 or 3.0", major, minor)
	}
	// NumPy 1.24 rejects headers above 10000 bytes unless max_header_size is
	// raised, so 1 MiB is generous and still bounds the allocation.
	const maxHeaderLen = 1 << 20
	if headerLen > maxHeaderLen {
		return header{}, 0, fmt.Errorf("header length %d exceeds %d bytes", headerLen, maxHeaderLen)
	}

	text := make([]byte, headerLen)
	if _, err := io.ReadFull(r, text); err != nil {
		return header{}, 0, fmt.Errorf("header of %d bytes: %w", headerLen, err)
	}
	h, err := parseHeader(string(text))
	if err != nil {
		return header{}, 0, err
	}
	return h, int64(len(pre) + lenSize + headerLen), nil
}

// checkHeader returns an error unless h describes a C-order array of descr.
func checkHeader(h header, descr string) error {
	if h.descr != descr {
		hint := ""
		switch h.descr {
		case descrFloat64:
			hint = ": it is float64, read it with npy.Read"
		case descrInt64:
			hint = ": it is int64, read it with npy.ReadInt64"
		default:
			hint = ": convert it with numpy's astype before saving"
		}
		return fmt.Errorf("dtype %q is not the requested %q%s", h.descr, descr, hint)
	}
	if h.fortranOrder {
		return fmt.Errorf("array is in Fortran order, want C order: save it with numpy.ascontiguousarray")
	}
	return nil
}
