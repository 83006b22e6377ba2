package kinds

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/llcflow/llcflow/targets"
)

// weight_decay = 0 must normalize to the parameters of a sampler without
// it, so that adding the attribute changes no key.
func TestWeightDecayZeroKeepsParams(t *testing.T) {
	for kind, attrs := range samplerAttrs() {
		t.Run(kind, func(t *testing.T) {
			without, errs := Registry{}.Normalize("sampler", kind, withInput(attrs, nil))
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			zero, errs := Registry{}.Normalize("sampler", kind,
				withInput(attrs, map[string]any{"weight_decay": 0.0}))
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if _, ok := zero["weight_decay"]; ok {
				t.Errorf("weight_decay = 0 stays in the params: %v", zero)
			}
			a, _ := json.Marshal(without)
			b, _ := json.Marshal(zero)
			if !bytes.Equal(a, b) {
				t.Errorf("params with weight_decay = 0\n%s\ndiffer from params without it\n%s", b, a)
			}
			set, _ := Registry{}.Normalize("sampler", kind,
				withInput(attrs, map[string]any{"weight_decay": 2.0}))
			if set["weight_decay"] != 2.0 {
				t.Errorf("weight_decay = 2 normalizes to %v", set["weight_decay"])
			}
		})
	}
}

func TestWeightDecayRejectsNegative(t *testing.T) {
	_, errs := Registry{}.Normalize("sampler", "hmc",
		withInput(samplerAttrs()["hmc"], map[string]any{"weight_decay": -1.0}))
	if len(errs) != 1 || errs[0].Attr != "weight_decay" {
		t.Errorf("weight_decay = -1 gave %v, want one error on weight_decay", errs)
	}
}

// A sampler with weight decay on a quadratic target reports α and the
// exact λ̂ with precision c·h_i + γ + α, SGLD's with its step-size bias.
func TestWeightDecayInResult(t *testing.T) {
	root := t.TempDir()
	target := quadraticTarget(t, root, 3)
	const c, gamma, alpha = 100.0, 5.0, 20.0
	for kind, attrs := range samplerAttrs() {
		t.Run(kind, func(t *testing.T) {
			extra := map[string]any{"gamma": gamma, "weight_decay": alpha}
			dir := runNode(t, filepath.Join(root, kind), "sampler", kind, "prior-"+kind,
				withInput(attrs, extra), map[string]string{"target": target}, 0)
			data, err := os.ReadFile(filepath.Join(dir, "result.json"))
			if err != nil {
				t.Fatal(err)
			}
			var res struct {
				WeightDecay float64 `json:"weight_decay"`
				LambdaExact float64 `json:"lambda_exact"`
			}
			if err := json.Unmarshal(data, &res); err != nil {
				t.Fatal(err)
			}
			if res.WeightDecay != alpha {
				t.Errorf("weight_decay = %v, want %v", res.WeightDecay, alpha)
			}
			h := []float64{1, 1, 1}
			want := targets.ExactQuadratic(h, c, gamma+alpha)
			if kind == "sgld" {
				want = targets.ExactSGLDQuadratic(h, c, gamma+alpha, attrs["step_size"].(float64))
			}
			if res.LambdaExact != want {
				t.Errorf("lambda_exact = %v, want %v", res.LambdaExact, want)
			}
		})
	}
}

// Without weight decay, result.json has no weight_decay field, so results
// keep the bytes they had before the attribute existed.
func TestWeightDecayAbsentFromResult(t *testing.T) {
	root := t.TempDir()
	target := quadraticTarget(t, root, 3)
	dir := runNode(t, root, "sampler", "hmc", "no-prior", withInput(samplerAttrs()["hmc"], nil),
		map[string]string{"target": target}, 0)
	data, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("weight_decay")) {
		t.Errorf("result.json without weight decay names it:\n%s", data)
	}
}
