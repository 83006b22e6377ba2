package kinds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// writeJSON writes v as indented JSON to dir/name. Non-finite numbers must
// have been replaced by nil before, because JSON cannot hold them.
func writeJSON(dir, name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	data = append(data, '\n')
	return writeFile(dir, name, data)
}

func writeFile(dir, name string, data []byte) error {
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

// finite returns f, or nil when f is NaN or infinite, for JSON output.
func finite(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return f
}

func finiteSlice(fs []float64) []any {
	out := make([]any, len(fs))
	for i, f := range fs {
		out[i] = finite(f)
	}
	return out
}

func finiteMap(m map[string]float64) map[string]any {
	out := make(map[string]any, len(m))
	for k, f := range m {
		out[k] = finite(f)
	}
	return out
}
