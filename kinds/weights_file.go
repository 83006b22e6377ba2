package kinds

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nlpodyssey/safetensors"

	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/models"
)

// Weights files hold trained weights for a declared model, as the point w*
// of an erm (weights = "FILE"): a NumPy .npz archive or a safetensors
// file with one array per entry of models.MLP.Params, named
// "layers.<l>.weight" (out × in) and "layers.<l>.bias" (out). Like data
// files, a weights file enters the key by its content hash.

// weightsFormat returns "npz" or "safetensors" from a file name.
func weightsFormat(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npz":
		return "npz", nil
	case ".safetensors":
		return "safetensors", nil
	}
	return "", fmt.Errorf("weights file %s has an unknown extension, want .npz or .safetensors", filepath.Base(path))
}

// readWeightsFile parses the arrays of a weights file.
func readWeightsFile(format string, data []byte) (map[string]*numpyArray, error) {
	if format == "npz" {
		archive, err := openNPZ(data)
		if err != nil {
			return nil, err
		}
		arrays := map[string]*numpyArray{}
		for _, name := range archive.names() {
			a, err := archive.array(name)
			if err != nil {
				return nil, err
			}
			arrays[name] = a
		}
		return arrays, nil
	}
	return readSafetensors(data)
}

// readSafetensors parses a safetensors file of F64, F32 or BF16 tensors.
func readSafetensors(data []byte) (map[string]*numpyArray, error) {
	st, err := safetensors.Deserialize(data)
	if err != nil {
		return nil, fmt.Errorf("not a safetensors file: %w", err)
	}
	arrays := map[string]*numpyArray{}
	for _, t := range st.Tensors() {
		view := t.TensorView
		shape := make([]int, len(view.Shape()))
		for i, s := range view.Shape() {
			shape[i] = int(s)
		}
		values, err := decodeTensor(view.DType(), view.Data())
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		arrays[t.Name] = &numpyArray{shape: shape, values: values}
	}
	return arrays, nil
}

// decodeTensor converts little-endian tensor data to float64.
func decodeTensor(dtype safetensors.DType, raw []byte) ([]float64, error) {
	var out []float64
	switch dtype {
	case safetensors.F64:
		for i := 0; i+8 <= len(raw); i += 8 {
			out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(raw[i:])))
		}
	case safetensors.F32:
		for i := 0; i+4 <= len(raw); i += 4 {
			out = append(out, float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[i:]))))
		}
	case safetensors.BF16:
		// bfloat16 is the upper half of a float32.
		for i := 0; i+2 <= len(raw); i += 2 {
			out = append(out, float64(math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[i:]))<<16)))
		}
	case safetensors.F16:
		return nil, fmt.Errorf("dtype F16 (float16) is not supported; save the tensors as F32, F64 or BF16 (tensor.float() in PyTorch)")
	default:
		return nil, fmt.Errorf("dtype %s is not supported, want F64, F32 or BF16", dtype)
	}
	return out, nil
}

// weightsVector lays out the arrays as the parameter vector of mlp. Every
// array of the model must be present with its shape, and the file must
// hold no other array. The error names the first mismatch in the order of
// the parameter vector.
func weightsVector(arrays map[string]*numpyArray, mlp *models.MLP) ([]float64, error) {
	params := mlp.Params()
	w := make([]float64, mlp.NumParams())
	for _, p := range params {
		a, ok := arrays[p.Name]
		if !ok {
			return nil, fmt.Errorf("the weights file has no array %q of shape %v, which the model with widths %v needs; it has %s",
				p.Name, p.Shape, mlp.Widths, quoteList(sortedNames(arrays)))
		}
		if !slices.Equal(a.shape, p.Shape) {
			return nil, fmt.Errorf("array %q has shape %v, but the model with widths %v needs %v",
				p.Name, a.shape, mlp.Widths, p.Shape)
		}
		if i := slices.IndexFunc(a.values, notFinite); i >= 0 {
			return nil, fmt.Errorf("array %q has %v at %s; weights must be finite", p.Name, a.values[i], arrayIndex(p.Shape, i))
		}
		copy(w[p.Offset:], a.values)
	}
	for _, name := range sortedNames(arrays) {
		if !slices.ContainsFunc(params, func(p models.ParamInfo) bool { return p.Name == name }) {
			return nil, fmt.Errorf("array %q is not a parameter of the model with widths %v and bias = %v, whose arrays are %s",
				name, mlp.Widths, mlp.Bias, quoteList(paramNames(params)))
		}
	}
	return w, nil
}

func notFinite(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

// arrayIndex formats the row-major flat index i of an array of the given
// shape as NumPy's index, such as [1, 2].
func arrayIndex(shape []int, i int) string {
	index := make([]string, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		index[k] = strconv.Itoa(i % shape[k])
		i /= shape[k]
	}
	return "[" + strings.Join(index, ", ") + "]"
}

func sortedNames(arrays map[string]*numpyArray) []string {
	names := make([]string, 0, len(arrays))
	for name := range arrays {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func paramNames(params []models.ParamInfo) []string {
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = p.Name
	}
	return names
}

// checkWeightsFile reads the weights file of a training erm, relative to
// dir, checks it against the model when the model's widths are given, and
// replaces its path by weights_sha256 and weights_format.
func checkWeightsFile(dir string, params map[string]any) []dsl.FieldError {
	name, ok := params["weights"].(string)
	if !ok {
		return nil
	}
	format, err := weightsFormat(name)
	if err != nil {
		return []dsl.FieldError{namedFileError("weights", "weights", err)}
	}
	path, err := resolvePath(dir, name)
	if err != nil {
		return []dsl.FieldError{namedFileError("weights", "weights", err)}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return []dsl.FieldError{namedFileError("weights", "weights", err)}
	}
	arrays, err := readWeightsFile(format, data)
	if err != nil {
		return []dsl.FieldError{namedFileError("weights", "weights", err)}
	}

	var m mlpParams
	if err := decode(params["model"].(map[string]any), &m); err == nil && len(m.Widths) >= 2 {
		if mlp, err := models.NewMLP(m.Widths, m.Activation, m.Bias); err == nil {
			if _, err := weightsVector(arrays, mlp); err != nil {
				return []dsl.FieldError{{Attr: "weights", Summary: "Weights do not fit the model", Detail: capitalize(err.Error()) + "."}}
			}
		}
	}

	hash := contentHash(data)
	dataFiles.Store(hash, path)
	delete(params, "weights")
	params["weights_sha256"] = hash
	params["weights_format"] = format
	return nil
}

// loadWeightsFile reads the weights file with the given content hash and
// lays it out for mlp.
func loadWeightsFile(hash, format string, mlp *models.MLP) ([]float64, error) {
	data, err := readHashed(hash)
	if err != nil {
		return nil, err
	}
	arrays, err := readWeightsFile(format, data)
	if err != nil {
		return nil, err
	}
	w, err := weightsVector(arrays, mlp)
	if err != nil {
		return nil, fmt.Errorf("weights file: %w", err)
	}
	return w, nil
}
