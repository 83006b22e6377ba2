package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type resultRowDoc struct {
	Address     string   `json:"address"`
	RunID       string   `json:"run_id"`
	Sampler     string   `json:"sampler"`
	NBeta       *float64 `json:"n_beta"`
	LLCMean     *float64 `json:"llc_mean"`
	LLCSE       *float64 `json:"llc_se"`
	RHat        *float64 `json:"rhat"`
	LambdaExact *float64 `json:"lambda_exact"`
	LambdaTrue  *float64 `json:"lambda_true"`
}

type resultsDoc struct {
	Rows   []resultRowDoc   `json:"rows"`
	Errors []map[string]any `json:"errors"`
}

// applyExample applies an example in a fresh store and returns its results
// and the store's directory.
func applyExample(t *testing.T, name string) (resultsDoc, string) {
	t.Helper()
	dir := t.TempDir()
	example, err := filepath.Abs(filepath.Join("..", "..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return applyFile(t, dir, example), dir
}

func applyFile(t *testing.T, dir, path string, flags ...string) resultsDoc {
	t.Helper()
	mustSucceed(t, llcflow(t, dir, append(append([]string{"apply"}, flags...), path)...), "apply "+path)
	r := llcflow(t, dir, append(append([]string{"results", "--format", "json"}, flags...), path)...)
	mustSucceed(t, r, "results")
	var doc resultsDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// samplerResultDoc is the part of a sampler's result.json that the
// validation checks read beside the results table.
type samplerResultDoc struct {
	LambdaMultiplicity *int     `json:"lambda_multiplicity"`
	Warnings           []string `json:"warnings"`
}

func readSamplerResult(t *testing.T, dir, runID string) samplerResultDoc {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "runs", runID, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res samplerResultDoc
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatalf("parse result.json of %s: %v", runID, err)
	}
	return res
}

// checkKnownValue applies the validation criteria to one row and returns
// what it misses. With an exact finite-nβ value, the estimate must lie
// within 4 SE of it. With only the asymptotic λ, it must lie within 10 %
// of λ. The estimate approaches λ from below by about (m − 1)/log nβ, so
// when the multiplicity m is known it must also lie within 4 SE of that
// value, and when m is unknown it must not exceed λ by more than 4 SE.
func checkKnownValue(row resultRowDoc, multiplicity *int) []string {
	if row.LLCMean == nil || row.LLCSE == nil || row.LambdaTrue == nil {
		return []string{fmt.Sprintf("missing estimate or λ: %+v", row)}
	}
	llc, se, lambda := *row.LLCMean, *row.LLCSE, *row.LambdaTrue
	var misses []string
	if row.LambdaExact != nil {
		if dev := math.Abs(llc - *row.LambdaExact); !(dev <= 4*se) {
			misses = append(misses, fmt.Sprintf("llc = %.4f ± %.4f, exact %.4f: off by %.1f SE",
				llc, se, *row.LambdaExact, dev/se))
		}
		return misses
	}
	if rel := (llc - lambda) / lambda; !(math.Abs(rel) <= 0.10) {
		misses = append(misses, fmt.Sprintf("llc = %.4f is %+.1f %% from λ = %.4f", llc, 100*rel, lambda))
	}
	if multiplicity != nil && *multiplicity > 0 && row.NBeta != nil {
		want := lambda - float64(*multiplicity-1)/math.Log(*row.NBeta)
		if dev := math.Abs(llc - want); !(dev <= 4*se) {
			misses = append(misses, fmt.Sprintf("llc = %.4f ± %.4f is %.1f SE from "+
				"λ − (m − 1)/log nβ = %.4f", llc, se, dev/se, want))
		}
	} else if llc > lambda+4*se {
		misses = append(misses, fmt.Sprintf("llc = %.4f ± %.4f exceeds λ = %.4f by more than 4 SE",
			llc, se, lambda))
	}
	return misses
}

// Every sampler of the validation example must meet checkKnownValue. HMC
// is exact up to Monte Carlo error. The SGLD rows' exact values include
// SGLD's step-size bias. MCLMC runs at an energy-variance target of 1e-5,
// where its discretization bias is below one standard error.
func TestValidationExampleMatchesKnownValues(t *testing.T) {
	doc, dir := applyExample(t, "validation.hcl")
	if len(doc.Rows) != 15 || len(doc.Errors) != 0 {
		t.Fatalf("%d rows and errors %v, want 15 rows", len(doc.Rows), doc.Errors)
	}
	for _, row := range doc.Rows {
		res := readSamplerResult(t, dir, row.RunID)
		for _, miss := range checkKnownValue(row, res.LambdaMultiplicity) {
			t.Errorf("%s: %s", row.Address, miss)
		}
	}
}

// The long validation file runs every row of every table, and every row
// must meet checkKnownValue, except the MCLMC rows at the default
// energy-variance target: they measure its bias, which must stay below
// 10 %.
func TestValidationLongExample(t *testing.T) {
	if os.Getenv("LLCFLOW_LONG") != "1" {
		t.Skip("set LLCFLOW_LONG=1 to run every row of the validation tables")
	}
	doc, dir := applyExample(t, "validation-long.hcl")
	if len(doc.Errors) != 0 {
		t.Fatalf("errors %v", doc.Errors)
	}
	for _, row := range doc.Rows {
		res := readSamplerResult(t, dir, row.RunID)
		misses := checkKnownValue(row, res.LambdaMultiplicity)
		switch {
		case strings.HasSuffix(row.Sampler, "_default"):
			rel := (*row.LLCMean - *row.LambdaExact) / *row.LambdaExact
			t.Logf("%s: bias at the default energy-variance target %+.2f %% ± %.2f %%",
				row.Address, 100*rel, 100**row.LLCSE / *row.LambdaExact)
			if math.Abs(rel) >= 0.10 {
				t.Errorf("%s: bias %+.2f %% is not below 10 %%", row.Address, 100*rel)
			}
		default:
			for _, miss := range misses {
				t.Errorf("%s: %s", row.Address, miss)
			}
		}
	}
}

// agreementHCL is one trained MLP family with the three samplers. HMC is
// exact up to Monte Carlo error. MCLMC at energy variance 1e-5 and
// full-batch SGLD at ε = 1e-3 are unadjusted; docs/VALIDATION.md gives
// the measurements behind their bias allowance.
const agreementHCL = `
dataset "teacher" {
  kind    = "teacher_student"
  n       = 200
  in_dim  = 2
  teacher = { widths = [2, 3, 1], activation = "tanh" }
  noise   = { kind = "gauss", scale = 0.1 }
}

model "student" {
  kind       = "mlp"
  widths     = [2, 4, 1]
  activation = "tanh"
}

erm "fit" {
  dataset = dataset.teacher
  model   = model.student
  steps   = 5000
}

sampler "sgld" {
  kind       = "sgld"
  erm        = erm.fit
  step_size  = 1e-3
  batch_size = 200
  warmup     = 2000
  steps      = 40000
  eval_every = 5
}

sampler "hmc" {
  kind           = "hmc"
  erm            = erm.fit
  leapfrog_steps = 8
  draws          = 4000
}

sampler "mclmc" {
  kind       = "mclmc"
  erm        = erm.fit
  energy_var = 1e-5
  draws      = 10000
}
`

// agreementBias is the allowance for the bias of each sampler, as a
// fraction of its estimate. For MCLMC at 1e-5 it is twice the 0.5 % that
// the bias measured at the default 5e-4 (−2 %) gives under the
// (E[ΔE²]/d)^{1/3} scaling. For SGLD it is an assumption that halving ε
// could not resolve, because the estimate moved by 2.3 % ± 2.6 %.
var agreementBias = map[string]float64{"sgld": 0.01, "mclmc": 0.01, "hmc": 0}

// SGLD, HMC and MCLMC on the same MLP family must agree within 4 combined
// standard errors plus their documented biases.
func TestSamplersAgreeOnMLP(t *testing.T) {
	if testing.Short() {
		t.Skip("the three samplers take several seconds")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "agree.hcl")
	if err := os.WriteFile(path, []byte(agreementHCL), 0o644); err != nil {
		t.Fatal(err)
	}
	checkAgreement(t, applyFile(t, dir, path), agreementBias)
}

// fullExampleBias is agreementBias for examples/full.hcl, whose MCLMC
// runs at the default energy-variance target 5e-4: its allowance is the
// −2 % bias measured there on the 10-dimensional Gaussian.
var fullExampleBias = map[string]float64{"sgld": 0.01, "mclmc": 0.02, "hmc": 0}

// The sampler-comparison example's three samplers must agree as above,
// with the quick preset in CI and the full one (about 2 minutes on 2
// cores) with LLCFLOW_LONG=1.
func TestFullExampleSamplersAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("the three samplers take several seconds")
	}
	presets := []string{"quick"}
	if os.Getenv("LLCFLOW_LONG") == "1" {
		presets = append(presets, "full")
	}
	for _, preset := range presets {
		t.Run(preset, func(t *testing.T) {
			example, err := filepath.Abs(filepath.Join("..", "..", "examples", "full.hcl"))
			if err != nil {
				t.Fatal(err)
			}
			checkAgreement(t, applyFile(t, t.TempDir(), example, "--preset", preset), fullExampleBias)
		})
	}
}

// checkAgreement fails the test unless doc has one row per sampler of
// bias and every pair of estimates differs by at most 4 combined SE plus
// the bias allowances of the two.
func checkAgreement(t *testing.T, doc resultsDoc, bias map[string]float64) {
	t.Helper()
	if len(doc.Rows) != len(bias) {
		t.Fatalf("%d rows, want %d", len(doc.Rows), len(bias))
	}
	for i, a := range doc.Rows {
		t.Logf("%s: llc = %.4f ± %.4f", a.Address, *a.LLCMean, *a.LLCSE)
		for _, b := range doc.Rows[i+1:] {
			se := math.Hypot(*a.LLCSE, *b.LLCSE)
			allowance := bias[a.Sampler]**a.LLCMean + bias[b.Sampler]**b.LLCMean
			if dev := math.Abs(*a.LLCMean - *b.LLCMean); dev > 4*se+allowance {
				t.Errorf("%s = %.4f and %s = %.4f differ by %.4f, more than 4 combined SE "+
					"(%.4f) plus the bias allowance %.4f", a.Address, *a.LLCMean, b.Address,
					*b.LLCMean, dev, 4*se, allowance)
			}
		}
	}
}

// The README's first command must give finite, positive, mixed estimates.
func TestQuickExample(t *testing.T) {
	if testing.Short() {
		t.Skip("the quick example takes several seconds")
	}
	doc, _ := applyExample(t, "quick.hcl")
	if len(doc.Rows) != 2 {
		t.Fatalf("%d rows, want 2", len(doc.Rows))
	}
	for _, row := range doc.Rows {
		if row.LLCMean == nil || !(*row.LLCMean > 0) {
			t.Errorf("%s: llc %v, want a positive estimate", row.Address, row.LLCMean)
		}
		// d/2 = 48.5 bounds the LLC of a 97-parameter model.
		if row.LLCMean != nil && *row.LLCMean > 48.5 {
			t.Errorf("%s: llc %v exceeds d/2 = 48.5", row.Address, *row.LLCMean)
		}
		if row.RHat == nil || *row.RHat > 1.1 {
			t.Errorf("%s: R-hat %v, want at most 1.1", row.Address, row.RHat)
		}
	}
}

// The training-curve example (about 95 s on 2 cores, so only with
// LLCFLOW_LONG=1) estimates the LLC at ten checkpoints with SGLD and HMC.
// At each checkpoint the two must agree as the samplers of one family do,
// and the rows must come in checkpoint order.
func TestTrainingCurveExample(t *testing.T) {
	if os.Getenv("LLCFLOW_LONG") != "1" {
		t.Skip("set LLCFLOW_LONG=1 to apply the training-curve example")
	}
	doc, _ := applyExample(t, "training-curve.hcl")
	if len(doc.Rows) != 20 || len(doc.Errors) != 0 {
		t.Fatalf("%d rows and errors %v, want 20 rows", len(doc.Rows), doc.Errors)
	}
	byStep := map[string]resultsDoc{}
	var order []string
	for _, row := range doc.Rows {
		_, axes, _ := strings.Cut(strings.TrimSuffix(row.Address, "]"), "[")
		if row.Sampler == "hmc" {
			order = append(order, axes)
		}
		d := byStep[axes]
		d.Rows = append(d.Rows, row)
		byStep[axes] = d
	}
	want := []string{"step=200", "step=400", "step=600", "step=800", "step=1000",
		"step=1200", "step=1400", "step=1600", "step=1800", "step=2000"}
	if !slices.Equal(order, want) {
		t.Errorf("HMC rows in the order %q, want %q", order, want)
	}
	for _, step := range want {
		t.Run(step, func(t *testing.T) {
			checkAgreement(t, byStep[step], map[string]float64{"sgld": 0.01, "hmc": 0})
		})
	}
}
