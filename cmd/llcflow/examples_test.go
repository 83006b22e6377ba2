package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"testing"
)

type resultsDoc struct {
	Rows []struct {
		Address     string   `json:"address"`
		LLCMean     *float64 `json:"llc_mean"`
		LLCSE       *float64 `json:"llc_se"`
		RHat        *float64 `json:"rhat"`
		LambdaExact *float64 `json:"lambda_exact"`
		LambdaTrue  *float64 `json:"lambda_true"`
	} `json:"rows"`
	Errors []map[string]any `json:"errors"`
}

func applyExample(t *testing.T, name string) resultsDoc {
	t.Helper()
	dir := t.TempDir()
	example, err := filepath.Abs(filepath.Join("..", "..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, llcflow(t, dir, "apply", example), "apply "+name)
	r := llcflow(t, dir, "results", "--format", "json", example)
	mustSucceed(t, r, "results")
	var doc resultsDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// Every sampler of the validation example must land within 4 standard
// errors of the exact finite-nβ value of its target. HMC is exact up to
// Monte Carlo error; the SGLD row's exact value includes its step-size
// bias; MCLMC runs at an energy-variance target of 1e-5, where its
// discretization bias is far below one standard error.
func TestValidationExampleMatchesExactValues(t *testing.T) {
	doc := applyExample(t, "validation.hcl")
	if len(doc.Rows) != 7 || len(doc.Errors) != 0 {
		t.Fatalf("%d rows and errors %v, want 7 rows", len(doc.Rows), doc.Errors)
	}
	for _, row := range doc.Rows {
		if row.LLCMean == nil || row.LLCSE == nil || row.LambdaExact == nil || row.LambdaTrue == nil {
			t.Errorf("%s: missing estimate or exact value: %+v", row.Address, row)
			continue
		}
		dev := math.Abs(*row.LLCMean - *row.LambdaExact)
		if dev > 4**row.LLCSE {
			t.Errorf("%s: llc = %.4f ± %.4f, exact %.4f: off by %.1f standard errors",
				row.Address, *row.LLCMean, *row.LLCSE, *row.LambdaExact, dev / *row.LLCSE)
		}
	}
}

// The README's first command must give finite, positive, mixed estimates.
func TestQuickExample(t *testing.T) {
	if testing.Short() {
		t.Skip("the quick example takes several seconds")
	}
	doc := applyExample(t, "quick.hcl")
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
