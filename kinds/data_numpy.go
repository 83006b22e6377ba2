package kinds

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

	"codeberg.org/sbinet/npyio"
	"codeberg.org/sbinet/npyio/npz"
)

// numpyArray is an array read from a .npy file or a .npz member, converted
// to float64 in row-major (C) order.
type numpyArray struct {
	shape  []int
	values []float64
}

// readNPY parses one .npy file. It accepts booleans, integers and floats
// of every width that NumPy writes, in C or Fortran order, and at most two
// dimensions.
func readNPY(r io.Reader) (*numpyArray, error) {
	rd, err := npyio.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("not a NumPy .npy array: %w", err)
	}
	h := rd.Header.Descr
	if len(h.Shape) > 2 {
		return nil, fmt.Errorf("array has shape %v, want one or two dimensions", h.Shape)
	}
	values, err := readNumbers(rd, strings.TrimLeft(strings.Trim(h.Type, `'"`), "<>|="))
	if err != nil {
		return nil, fmt.Errorf("array of dtype %s: %w", h.Type, err)
	}
	shape := append([]int(nil), h.Shape...)
	if h.Fortran && len(shape) == 2 {
		values = fromColumnMajor(values, shape[0], shape[1])
	}
	return &numpyArray{shape: shape, values: values}, nil
}

// readNumbers reads the array's elements of NumPy type code typ ("f8",
// "i4", "b1", …) and converts them to float64.
func readNumbers(rd *npyio.Reader, typ string) ([]float64, error) {
	switch typ {
	case "f8":
		var v []float64
		return v, rd.Read(&v)
	case "f4":
		return readConverted[float32](rd)
	case "i8":
		return readConverted[int64](rd)
	case "i4":
		return readConverted[int32](rd)
	case "i2":
		return readConverted[int16](rd)
	case "i1":
		return readConverted[int8](rd)
	case "u8":
		return readConverted[uint64](rd)
	case "u4":
		return readConverted[uint32](rd)
	case "u2":
		return readConverted[uint16](rd)
	case "u1":
		return readConverted[uint8](rd)
	case "b1":
		var v []bool
		if err := rd.Read(&v); err != nil {
			return nil, err
		}
		out := make([]float64, len(v))
		for i, b := range v {
			if b {
				out[i] = 1
			}
		}
		return out, nil
	case "f2":
		return nil, fmt.Errorf("float16 is not supported; save the array as float32 or float64 (array.astype(numpy.float32))")
	}
	return nil, fmt.Errorf("element type is not supported, want a boolean, an integer or a float32 or float64 dtype")
}

func readConverted[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32](rd *npyio.Reader) ([]float64, error) {
	var v []T
	if err := rd.Read(&v); err != nil {
		return nil, err
	}
	out := make([]float64, len(v))
	for i, e := range v {
		out[i] = float64(e)
	}
	return out, nil
}

func fromColumnMajor(v []float64, rows, cols int) []float64 {
	out := make([]float64, len(v))
	for j := 0; j < cols; j++ {
		for i := 0; i < rows; i++ {
			out[i*cols+j] = v[j*rows+i]
		}
	}
	return out
}

// npzArchive is a .npz file held in memory.
type npzArchive struct {
	r *npz.Reader
}

func openNPZ(data []byte) (*npzArchive, error) {
	r, err := npz.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("not a NumPy .npz archive: %w", err)
	}
	return &npzArchive{r: r}, nil
}

// names returns the array names of the archive, sorted, without the .npy
// suffix of their members.
func (a *npzArchive) names() []string {
	var names []string
	for _, k := range a.r.Keys() {
		names = append(names, strings.TrimSuffix(k, ".npy"))
	}
	sort.Strings(names)
	return names
}

// array reads the array named name.
func (a *npzArchive) array(name string) (*numpyArray, error) {
	found := false
	for _, n := range a.names() {
		found = found || n == name
	}
	if !found {
		return nil, fmt.Errorf("the archive has no array %q; it has %s", name, quoteList(a.names()))
	}
	rc, err := a.r.Open(name + ".npy")
	if err != nil {
		return nil, fmt.Errorf("read array %q: %w", name, err)
	}
	defer rc.Close()
	arr, err := readNPY(rc)
	if err != nil {
		return nil, fmt.Errorf("array %q: %w", name, err)
	}
	return arr, nil
}
