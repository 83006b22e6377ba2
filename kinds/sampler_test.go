package kinds

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/samplers"
)

func dslRef(blockType, name string) dsl.Ref {
	return dsl.Ref{Type: blockType, Name: name, Address: blockType + "." + name}
}

// runNode normalizes attrs with the kind's schema and runs the kind into a
// fresh directory under root, returning that directory.
func runNode(t *testing.T, root, blockType, kind, key string, attrs map[string]any,
	inputs map[string]string, threads int) string {
	t.Helper()
	params, errs := Registry{}.Normalize(blockType, kind, attrs)
	if len(errs) > 0 {
		t.Fatalf("normalize %s %s: %v", blockType, kind, errs)
	}
	k, _ := Lookup(blockType, kind)
	dir := filepath.Join(root, key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rc := &RunContext{
		Key: key, RunID: key, Address: blockType + "." + kind, Params: params, Inputs: inputs,
		RunDir: func(id string) string { return filepath.Join(root, id) },
		Dir:    dir, Log: io.Discard, Threads: threads,
	}
	if err := k.Run(context.Background(), rc); err != nil {
		t.Fatalf("run %s %s: %v", blockType, kind, err)
	}
	return dir
}

// quadraticTarget runs a quadratic target node with d unit eigenvalues.
func quadraticTarget(t *testing.T, root string, d int) string {
	t.Helper()
	eigen := make([]any, d)
	for i := range eigen {
		eigen[i] = 1.0
	}
	return runNode(t, root, "target", "quadratic", "target-quadratic",
		map[string]any{"eigenvalues": eigen}, nil, 0)
}

// samplerAttrs returns short runs of each sampler kind on a target.
func samplerAttrs() map[string]map[string]any {
	return map[string]map[string]any{
		"sgld":  {"step_size": 1e-3, "warmup": 100.0, "steps": 400.0, "eval_every": 1.0},
		"hmc":   {"leapfrog_steps": 3.0, "warmup": 100.0, "draws": 400.0},
		"mclmc": {"tune_steps": 100.0, "warmup": 50.0, "draws": 400.0},
	}
}

func withInput(attrs map[string]any, extra map[string]any) map[string]any {
	out := map[string]any{"n_beta": 100.0, "gamma": 0.0, "chains": 3.0, "init_noise": 0.0,
		"target": dslRef("target", "t")}
	for k, v := range attrs {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func TestTraceRoundTrip(t *testing.T) {
	run := &samplers.Run{
		LossStar: 0.1, NBeta: 144.76,
		Chains: []samplers.ChainTrace{
			{Step: []int{0, 10}, Loss: []float64{0.1 + 1e-17, math.Nextafter(0.3, 1)},
				Series: map[string][]float64{"b": {1e-300, -0}, "a": {math.MaxFloat64, 1.0 / 3}}},
			{Step: []int{0, 10}, Loss: []float64{5e-324, 2},
				Series: map[string][]float64{"b": {-1.5, 7}, "a": {0.1, 0.2}}},
		},
	}
	path := filepath.Join(t.TempDir(), fileTrace)
	if err := os.WriteFile(path, formatTrace(run), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadTrace(path)
	if err != nil {
		t.Fatalf("ReadTrace: %v", err)
	}
	if strings.Join(got.Series, ",") != "a,b" {
		t.Errorf("series %v, want [a b]", got.Series)
	}
	if len(got.Chains) != len(run.Chains) {
		t.Fatalf("%d chains, want %d", len(got.Chains), len(run.Chains))
	}
	for c, want := range run.Chains {
		ch := got.Chains[c]
		for i := range want.Loss {
			if ch.Step[i] != want.Step[i] {
				t.Errorf("chain %d draw %d: step %d, want %d", c, i, ch.Step[i], want.Step[i])
			}
			if math.Float64bits(ch.Loss[i]) != math.Float64bits(want.Loss[i]) {
				t.Errorf("chain %d draw %d: loss %v, want %v", c, i, ch.Loss[i], want.Loss[i])
			}
			llc := run.NBeta * (want.Loss[i] - run.LossStar)
			if math.Float64bits(got.LLC[c][i]) != math.Float64bits(llc) {
				t.Errorf("chain %d draw %d: llc %v, want %v", c, i, got.LLC[c][i], llc)
			}
			for name, series := range want.Series {
				if math.Float64bits(ch.Series[name][i]) != math.Float64bits(series[i]) {
					t.Errorf("chain %d draw %d: %s = %v, want %v", c, i, name,
						ch.Series[name][i], series[i])
				}
			}
		}
	}
}

func TestReadTraceRejectsDisorder(t *testing.T) {
	cases := map[string]string{
		"bad header":   "chain,draw,loss\n0,0,1\n",
		"skipped draw": "chain,draw,step,loss,llc\n0,0,0,1,1\n0,2,2,1,1\n",
		"not a number": "chain,draw,step,loss,llc\n0,0,0,one,1\n",
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), fileTrace)
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadTrace(path); err == nil {
				t.Errorf("ReadTrace accepted %q", text)
			}
		})
	}
}

// Every sampler kind must keep its chains inside the bounds. The posterior
// of K = ½‖w‖² at nβ = 100 has sd 0.1 per coordinate, so without the box
// [−0.02, 0.02] most draws would have K above the box's maximum d·0.02²/2.
func TestSamplerBoundsKeepChainsInBox(t *testing.T) {
	const d, wall = 4, 0.02
	root := t.TempDir()
	target := quadraticTarget(t, root, d)
	for kind, attrs := range samplerAttrs() {
		t.Run(kind, func(t *testing.T) {
			attrs := withInput(attrs, map[string]any{"bounds": []any{-wall, wall}})
			dir := runNode(t, root, "sampler", kind, "bounded-"+kind, attrs,
				map[string]string{"target": target}, 0)
			tr, err := ReadTrace(filepath.Join(dir, fileTrace))
			if err != nil {
				t.Fatal(err)
			}
			maxLoss := d * wall * wall / 2
			for c, ch := range tr.Chains {
				for i, loss := range ch.Loss {
					if loss > maxLoss {
						t.Fatalf("chain %d draw %d: K = %g exceeds %g, the maximum in the box",
							c, i, loss, maxLoss)
					}
				}
			}
			var res samplerResult
			if err := readJSON(filepath.Join(dir, "result.json"), &res); err != nil {
				t.Fatal(err)
			}
			if res.LambdaExact != nil {
				t.Errorf("lambda_exact = %v for a boxed sampler, want null", res.LambdaExact)
			}
		})
	}
}

func TestTargetSamplerNeedsNBeta(t *testing.T) {
	attrs := map[string]any{"target": dslRef("target", "t")}
	if _, errs := (Registry{}).Normalize("sampler", "mclmc", attrs); len(errs) != 1 {
		t.Errorf("a target sampler without n_beta gave %d errors, want 1: %v", len(errs), errs)
	}
}

func TestSamplerBoundsValidation(t *testing.T) {
	target := dslRef("target", "t")
	for _, bounds := range [][]any{{1.0}, {1.0, -1.0}, {0.0, 0.0}, {}} {
		attrs := map[string]any{"target": target, "n_beta": 100.0, "bounds": bounds}
		if _, errs := (Registry{}).Normalize("sampler", "hmc", attrs); len(errs) == 0 {
			t.Errorf("bounds %v accepted", bounds)
		}
	}
	attrs := map[string]any{"target": target, "n_beta": 100.0, "bounds": []any{-1.0, 1.0}}
	if _, errs := (Registry{}).Normalize("sampler", "hmc", attrs); len(errs) != 0 {
		t.Errorf("bounds [-1, 1] rejected: %v", errs)
	}
}

// The deterministic outputs of a node must not depend on the thread count
// or on which run of the process produced them.
func TestSamplerOutputsByteIdentical(t *testing.T) {
	root := t.TempDir()
	target := quadraticTarget(t, root, 3)
	for kind, attrs := range samplerAttrs() {
		t.Run(kind, func(t *testing.T) {
			var first map[string][]byte
			for i, threads := range []int{1, 0, 2} {
				dir := runNode(t, filepath.Join(root, kind+strconv.Itoa(i)), "sampler", kind,
					"same-key", withInput(attrs, map[string]any{"init_noise": 0.01}),
					map[string]string{"target": target}, threads)
				files := map[string][]byte{}
				for _, name := range []string{"result.json", fileTrace} {
					data, err := os.ReadFile(filepath.Join(dir, name))
					if err != nil {
						t.Fatal(err)
					}
					files[name] = data
				}
				if first == nil {
					first = files
					continue
				}
				for name, data := range files {
					if !bytes.Equal(data, first[name]) {
						t.Errorf("threads = %d: %s differs from the first run", threads, name)
					}
				}
			}
		})
	}
}

// Two nodes that differ only in seed have different keys, so their chains
// draw from different streams: no chain of one may repeat any loss of a
// chain of the other (or of its own node) at the same draw.
func TestSamplerSeedsShareNoStream(t *testing.T) {
	root := t.TempDir()
	target := quadraticTarget(t, root, 3)
	for kind, attrs := range samplerAttrs() {
		t.Run(kind, func(t *testing.T) {
			var chains [][]float64
			for seed := range 2 {
				attrs := withInput(attrs, map[string]any{"seed": float64(seed)})
				params, _ := Registry{}.Normalize("sampler", kind, attrs)
				if params["seed"] != float64(seed) {
					t.Fatalf("seed %v did not reach the params: %v", seed, params["seed"])
				}
				key := "seed-" + strconv.Itoa(seed)
				dir := runNode(t, root, "sampler", kind, kind+key, attrs,
					map[string]string{"target": target}, 0)
				tr, err := ReadTrace(filepath.Join(dir, fileTrace))
				if err != nil {
					t.Fatal(err)
				}
				for _, ch := range tr.Chains {
					chains = append(chains, ch.Loss)
				}
			}
			for a := range chains {
				for b := a + 1; b < len(chains); b++ {
					for i := range 20 {
						if chains[a][i] == chains[b][i] {
							t.Errorf("chains %d and %d share draw %d: %v", a, b, i, chains[a][i])
						}
					}
				}
			}
		})
	}
}

// The progress of an MCLMC node must reach 1 whichever of L and ε are
// tuned, because the tuning stages it counts are the ones that run.
func TestMCLMCProgressReachesOne(t *testing.T) {
	root := t.TempDir()
	target := quadraticTarget(t, root, 3)
	cases := map[string]map[string]any{
		"both tuned": {},
		"L given":    {"L": 1.0},
		"ε given":    {"step_size": 0.1},
		"none tuned": {"L": 1.0, "step_size": 0.1},
	}
	for name, extra := range cases {
		t.Run(name, func(t *testing.T) {
			attrs := withInput(samplerAttrs()["mclmc"], extra)
			params, errs := Registry{}.Normalize("sampler", "mclmc", attrs)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			dir := filepath.Join(root, "progress-"+name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			var last float64
			rc := &RunContext{Key: name, Params: params, Inputs: map[string]string{"target": target},
				Dir: dir, Log: io.Discard, Threads: 1,
				Progress: func(fraction float64, _ string) { last = fraction }}
			k, _ := Lookup("sampler", "mclmc")
			if err := k.Run(context.Background(), rc); err != nil {
				t.Fatal(err)
			}
			if last != 1 {
				t.Errorf("last progress %v, want 1", last)
			}
		})
	}
}

// beta0 and n_beta both set nβ, so a block may give only one of them. The
// default beta0 = 1 does not count, and stays in the params so that keys
// keep their value.
func TestBeta0ConflictsWithNBeta(t *testing.T) {
	attrs := func(extra map[string]any) map[string]any {
		out := map[string]any{"erm": dslRef("erm", "e")}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	for _, beta0 := range []float64{1, 2} {
		_, errs := Registry{}.Normalize("sampler", "sgld", attrs(map[string]any{"beta0": beta0, "n_beta": 100.0}))
		if len(errs) != 1 || errs[0].Attr != "n_beta" || errs[0].Summary != "Conflicting arguments" {
			t.Errorf("beta0 = %g with n_beta: errors %v, want one Conflicting arguments at n_beta", beta0, fieldErrors(errs))
		}
	}
	cases := []struct {
		name  string
		extra map[string]any
		beta0 float64
	}{
		{"n_beta alone", map[string]any{"n_beta": 100.0}, 1},
		{"beta0 alone", map[string]any{"beta0": 2.0}, 2},
		{"neither", nil, 1},
	}
	for _, tc := range cases {
		for _, kind := range []string{"sgld", "hmc", "mclmc"} {
			params, errs := Registry{}.Normalize("sampler", kind, attrs(tc.extra))
			if len(errs) > 0 {
				t.Errorf("%s %s: errors %v, want none", kind, tc.name, fieldErrors(errs))
				continue
			}
			if params["beta0"] != tc.beta0 {
				t.Errorf("%s %s: beta0 = %v, want %g", kind, tc.name, params["beta0"], tc.beta0)
			}
		}
	}
}
