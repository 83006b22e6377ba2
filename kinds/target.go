package kinds

import (
	"context"
	"fmt"
	"math"
	"path/filepath"

	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/targets"
)

// Target blocks stand for analytic potentials with a known minimum w* = 0
// and known learning coefficients. A target node writes only result.json,
// which records its kind and parameters; samplers rebuild the potential.
func init() {
	register(&Kind{
		Type: "target", Name: "quadratic", Version: "quadratic/1",
		Attrs: []Attr{
			positive(Attr{Name: "eigenvalues", Type: NumList, Doc: "Hessian eigenvalues h_i of K(w) = ½ Σ h_i w_i²"}),
		},
		Check: nonEmptyList("eigenvalues"),
		Run:   runTarget("quadratic"),
	})
	register(&Kind{
		Type: "target", Name: "radial", Version: "radial/1",
		Attrs: []Attr{
			atLeast(Attr{Name: "dim", Type: Int, Doc: "dimension d"}, 1),
			atLeast(Attr{Name: "power", Type: Int, Doc: "k in K(w) = ‖w‖^(2k)"}, 1),
		},
		Run: runTarget("radial"),
	})
	register(&Kind{
		Type: "target", Name: "monomial", Version: "monomial/1",
		Attrs: []Attr{
			nonNegative(Attr{Name: "exponents", Type: IntList, Doc: "k_j in K(w) = Π w_j^(2 k_j)"}),
			{Name: "bounds", Type: NumList, Default: []any{-1.0, 1.0}, Doc: "the box [lower, upper] of the uniform prior, on every coordinate"},
		},
		Check: checkMonomial,
		Run:   runTarget("monomial"),
	})
	register(&Kind{
		Type: "target", Name: "linear", Version: "linear/1",
		Attrs: []Attr{
			atLeast(Attr{Name: "widths", Type: IntList, Doc: "widths H_1 (input) … H_{L+1} (output) of the deep linear network; three widths are reduced-rank regression"}, 1),
			nonNegative(Attr{Name: "rank", Type: Int, Doc: "rank r of the teacher, at most the narrowest width"}),
		},
		Check: checkLinear,
		Run:   runTarget("linear"),
	})
}

func checkLinear(params map[string]any) []dsl.FieldError {
	var p targetParams
	if err := decode(params, &p); err != nil {
		return []dsl.FieldError{{Summary: "Invalid value", Detail: err.Error()}}
	}
	if err := (targets.Linear{Widths: p.Widths, Rank: p.Rank}).Validate(); err != nil {
		return []dsl.FieldError{{Attr: "widths", Summary: "Invalid value", Detail: err.Error() + "."}}
	}
	return nil
}

func nonEmptyList(name string) func(map[string]any) []dsl.FieldError {
	return func(params map[string]any) []dsl.FieldError {
		if list, _ := params[name].([]any); len(list) == 0 {
			return []dsl.FieldError{{Attr: name, Summary: "Invalid value",
				Detail: fmt.Sprintf("%s is empty; give at least one value.", name)}}
		}
		return nil
	}
}

type targetParams struct {
	Eigenvalues []float64 `json:"eigenvalues"`
	Dim         int       `json:"dim"`
	Power       int       `json:"power"`
	Exponents   []int     `json:"exponents"`
	Bounds      []float64 `json:"bounds"`
	// Widths and Rank belong to the linear target. They are omitted for
	// the others, so that their result.json stays as it was.
	Widths []int `json:"widths,omitempty"`
	Rank   int   `json:"rank,omitempty"`
}

func checkMonomial(params map[string]any) []dsl.FieldError {
	var p targetParams
	if err := decode(params, &p); err != nil {
		return []dsl.FieldError{{Summary: "Invalid value", Detail: err.Error()}}
	}
	if len(p.Bounds) != 2 {
		return []dsl.FieldError{{Attr: "bounds", Summary: "Invalid value",
			Detail: fmt.Sprintf("bounds must be [lower, upper], got %d values.", len(p.Bounds))}}
	}
	m := targets.Monomial{Exponents: p.Exponents, Lower: p.Bounds[0], Upper: p.Bounds[1]}
	if err := m.Validate(); err != nil {
		return []dsl.FieldError{{Attr: "exponents", Summary: "Invalid value", Detail: err.Error() + "."}}
	}
	return nil
}

// targetResult is a target node's result.json.
type targetResult struct {
	Kind   string       `json:"kind"`
	Params targetParams `json:"params"`
	D      int          `json:"d"`
	// Lambda is the learning coefficient λ (nil when unknown) and
	// Multiplicity its multiplicity m (0 when unknown).
	Lambda       any `json:"lambda"`
	Multiplicity int `json:"multiplicity"`
}

func runTarget(kind string) func(ctx context.Context, rc *RunContext) error {
	return func(ctx context.Context, rc *RunContext) error {
		var p targetParams
		if err := decode(rc.Params, &p); err != nil {
			return err
		}
		t, lambda, mult, err := buildTarget(kind, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(rc.Log, "%s target: d = %d, λ = %v\n", kind, t.Dim(), lambda)
		return writeJSON(rc.Dir, "result.json", targetResult{
			Kind: kind, Params: p, D: t.Dim(), Lambda: finite(lambda), Multiplicity: mult,
		})
	}
}

// buildTarget returns the potential of a target with its λ and multiplicity.
func buildTarget(kind string, p targetParams) (targets.Target, float64, int, error) {
	var t targets.Target
	lambda, mult := math.NaN(), 0
	switch kind {
	case "quadratic":
		t = targets.Quadratic{H: p.Eigenvalues}
		lambda, mult = float64(len(p.Eigenvalues))/2, 1
	case "radial":
		r := targets.Radial{D: p.Dim, K: p.Power}
		t, lambda, mult = r, r.Lambda(), 1
	case "monomial":
		m := targets.Monomial{Exponents: p.Exponents, Lower: p.Bounds[0], Upper: p.Bounds[1]}
		t = m
		lambda, mult = m.Lambda()
	case "linear":
		l := targets.Linear{Widths: p.Widths, Rank: p.Rank}
		if err := l.Validate(); err != nil {
			return nil, 0, 0, err
		}
		t = l
		lambda, mult = l.Lambda()
	default:
		return nil, 0, 0, fmt.Errorf("unknown target kind %q", kind)
	}
	if err := t.Validate(); err != nil {
		return nil, 0, 0, err
	}
	return t, lambda, mult, nil
}

// exactLLC returns the exact finite-nβ value λ̂(c) of a target, when one is
// known for this sampler setting: quadratic targets for every γ and weight
// decay α (with the SGLD step-size bias when eps > 0), radial and monomial
// targets with a flat prior (γ = α = 0). A quadratic target has w* = 0, so
// the posterior precision is c·h_i + γ + α and α acts as extra γ.
func exactLLC(kind string, p targetParams, c, gamma, alpha, sgldEps float64) (float64, bool) {
	switch kind {
	case "quadratic":
		if sgldEps > 0 {
			return targets.ExactSGLDQuadratic(p.Eigenvalues, c, gamma+alpha, sgldEps), true
		}
		return targets.ExactQuadratic(p.Eigenvalues, c, gamma+alpha), true
	case "radial":
		if gamma == 0 && alpha == 0 {
			return float64(p.Dim) / float64(2*p.Power), true
		}
	case "monomial":
		positive := 0
		for _, k := range p.Exponents {
			if k > 0 {
				positive++
			}
		}
		if gamma == 0 && alpha == 0 && positive <= 3 {
			return targets.ExactMonomial(p.Exponents, c, p.Bounds[0], p.Bounds[1]), true
		}
	}
	return 0, false
}

// loadTarget reads a target input of a sampler.
func loadTarget(dir string) (*targetResult, targets.Target, error) {
	var res targetResult
	if err := readJSON(filepath.Join(dir, "result.json"), &res); err != nil {
		return nil, nil, fmt.Errorf("read target result: %w", err)
	}
	t, _, _, err := buildTarget(res.Kind, res.Params)
	if err != nil {
		return nil, nil, err
	}
	return &res, t, nil
}
