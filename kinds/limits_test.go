package kinds

import (
	"fmt"
	"strings"
	"testing"
)

func TestModelTooLargeAtWidths(t *testing.T) {
	_, errs := Registry{}.Normalize("model", "mlp", map[string]any{
		"widths": []any{4.0, 100000.0, 100000.0, 1.0}})
	if len(errs) != 1 {
		t.Fatalf("errors = %v, want one", fieldErrors(errs))
	}
	e := errs[0]
	if e.Attr != "widths" || e.Summary != "Model too large" {
		t.Errorf("error %s: %s, want widths: Model too large", e.Attr, e.Summary)
	}
	// 4·10⁵ + 10¹⁰ + 10⁵ weights and 2·10⁵ + 1 biases.
	for _, want := range []string{"d = 10000700001 parameters", "8 GiB"} {
		if !strings.Contains(e.Detail, want) {
			t.Errorf("detail %q, want it to contain %q", e.Detail, want)
		}
	}
}

// With target_params, d is target_params, so the largest model that fits
// has 8 GiB / (12 vectors × 8 bytes) parameters.
func TestModelLimitAtTargetParams(t *testing.T) {
	limit := float64(maxNodeBytes / (8 * bufferVectors))
	for _, tp := range []float64{limit, limit + 1} {
		_, errs := Registry{}.Normalize("model", "mlp", map[string]any{"depth": 2.0, "target_params": tp})
		if tooLarge := len(errs) > 0; tooLarge != (tp > limit) {
			t.Errorf("target_params = %.0f: errors %v, want an error only above %.0f", tp, fieldErrors(errs), limit)
		}
		if len(errs) > 0 && errs[0].Attr != "target_params" {
			t.Errorf("target_params = %.0f: error at %q, want target_params", tp, errs[0].Attr)
		}
	}
}

const depthModelSource = `
dataset "d" {
  kind    = "teacher_student"
  n       = 100
  in_dim  = 3
  teacher = { widths = [3, 2, 1] }
}
model "m" {
  kind  = "mlp"
  depth = 2
  width = WIDTH
}
erm "e" {
  dataset = dataset.d
  model   = model.m
}
`

// A model given by depth and width gets its size from the dataset's
// widths, so CheckGraph rejects it at the erm.
func TestCheckGraphModelTooLargeByDepth(t *testing.T) {
	fits := strings.Replace(depthModelSource, "WIDTH", "100", 1)
	if errs := CheckGraph(loadGraph(t, fits)); len(errs) != 0 {
		t.Errorf("width 100: errors %+v, want none", errs)
	}
	// 3·30000 + 30000² + 30000 weights and 60001 biases: about 9·10⁸.
	huge := strings.Replace(depthModelSource, "WIDTH", "30000", 1)
	errs := CheckGraph(loadGraph(t, huge))
	if len(errs) != 1 {
		t.Fatalf("width 30000: errors %+v, want one", errs)
	}
	if errs[0].Address != "erm.e" || errs[0].Summary != "Model too large" {
		t.Errorf("error %s at %s, want Model too large at erm.e", errs[0].Summary, errs[0].Address)
	}
	if !strings.Contains(errs[0].Detail, "d = 900180001 parameters") {
		t.Errorf("detail %q, want d = 900180001", errs[0].Detail)
	}
}

const chainsSource = `
dataset "d" {
  kind    = "teacher_student"
  n       = 100
  in_dim  = 3
  teacher = { widths = [3, 2, 1] }
}
model "m" {
  kind   = "mlp"
  widths = [3, 5000, 6000, 1]
}
erm "e" {
  dataset = dataset.d
  model   = model.m
}
sampler "s" {
  kind   = "hmc"
  erm    = erm.e
  chains = CHAINS
}
`

// The model keeps about 2.7 GiB per chain: two chains fit in 8 GiB and
// three do not.
func TestCheckGraphChainsMemory(t *testing.T) {
	size := sizeOfWidths([]int{3, 5000, 6000, 1}, true)
	if per := size.bytes(); 2*per > maxNodeBytes || 3*per <= maxNodeBytes {
		t.Fatalf("one chain takes %s, want two to fit %d bytes and three not", gib(per), maxNodeBytes)
	}
	for _, chains := range []int{1, 2, 3, 4} {
		src := strings.Replace(chainsSource, "CHAINS", fmt.Sprint(chains), 1)
		errs := CheckGraph(loadGraph(t, src))
		if tooLarge := len(errs) > 0; tooLarge != (chains > 2) {
			t.Errorf("chains = %d: errors %+v, want an error only above 2 chains", chains, errs)
			continue
		}
		if len(errs) > 0 && (len(errs) != 1 || errs[0].Address != "sampler.s" || errs[0].Summary != "Sampler too large") {
			t.Errorf("chains = %d: errors %+v, want one Sampler too large at sampler.s", chains, errs)
		}
	}
}

// A target has no model block, so a target too large for one chain is
// reported at the sampler.
func TestCheckGraphTargetTooLarge(t *testing.T) {
	src := `
target "t" {
  kind  = "radial"
  dim   = DIM
  power = 1
}
sampler "s" {
  kind   = "hmc"
  target = target.t
  n_beta = 100
  chains = 1
}
`
	if errs := CheckGraph(loadGraph(t, strings.Replace(src, "DIM", "1000", 1))); len(errs) != 0 {
		t.Errorf("dim = 1000: errors %+v, want none", errs)
	}
	errs := CheckGraph(loadGraph(t, strings.Replace(src, "DIM", "1e10", 1)))
	if len(errs) != 1 || errs[0].Address != "sampler.s" {
		t.Fatalf("dim = 1e10: errors %+v, want one at sampler.s", errs)
	}
	if !strings.Contains(errs[0].Detail, "d = 10000000000 parameters") {
		t.Errorf("detail %q, want it to name d", errs[0].Detail)
	}
	if !strings.Contains(errs[0].Detail, "lower the target's dim") {
		t.Errorf("detail %q, want it to name dim as the fix", errs[0].Detail)
	}
}

func TestTraceTooLarge(t *testing.T) {
	cases := []struct {
		kind  string
		attrs map[string]any
		attr  string
	}{
		{"hmc", map[string]any{"draws": 1e12}, "draws"},
		{"mclmc", map[string]any{"draws": 1e12}, "draws"},
		{"sgld", map[string]any{"steps": 1e12, "eval_every": 10.0}, "steps"},
	}
	for _, tc := range cases {
		_, errs := Registry{}.Normalize("sampler", tc.kind, withInput(tc.attrs, nil))
		if len(errs) != 1 {
			t.Errorf("%s: errors %v, want one", tc.kind, fieldErrors(errs))
			continue
		}
		if errs[0].Attr != tc.attr || errs[0].Summary != "Trace too large" {
			t.Errorf("%s: error %s: %s, want %s: Trace too large", tc.kind, errs[0].Attr, errs[0].Summary, tc.attr)
		}
	}
}

// Three chains of four values per draw fit maxTraceBytes exactly at
// 2^30 / (3 × 4 × 8) draws, rounded down. SGLD records steps/eval_every
// draws, so ten times the steps at eval_every = 10 gives the same trace.
func TestTraceLimitBoundary(t *testing.T) {
	limit := float64(maxTraceBytes / (3 * 4 * 8))
	for _, draws := range []float64{limit, limit + 1} {
		over := draws > limit
		_, errs := Registry{}.Normalize("sampler", "hmc", withInput(map[string]any{"draws": draws}, nil))
		if (len(errs) > 0) != over {
			t.Errorf("hmc draws = %.0f: errors %v, want an error only above %.0f", draws, fieldErrors(errs), limit)
		}
		_, errs = Registry{}.Normalize("sampler", "sgld", withInput(map[string]any{"steps": 10 * draws, "eval_every": 10.0}, nil))
		if (len(errs) > 0) != over {
			t.Errorf("sgld steps = %.0f: errors %v, want an error only above %.0f draws", 10*draws, fieldErrors(errs), limit)
		}
	}
}
