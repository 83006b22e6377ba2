package kinds

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// step_jitter = 0 must normalize to the parameters of an HMC node
// without it, so that adding the attribute changes no key, and a jitter
// outside [0, 1) is rejected with the attribute named and that range.
func TestHMCStepJitterParams(t *testing.T) {
	attrs := samplerAttrs()["hmc"]
	without, errs := Registry{}.Normalize("sampler", "hmc", withInput(attrs, nil))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	zero, errs := Registry{}.Normalize("sampler", "hmc", withInput(attrs, map[string]any{"step_jitter": 0.0}))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	a, _ := json.Marshal(without)
	b, _ := json.Marshal(zero)
	if !bytes.Equal(a, b) {
		t.Errorf("params with step_jitter = 0\n%s\ndiffer from params without it\n%s", b, a)
	}
	set, errs := Registry{}.Normalize("sampler", "hmc", withInput(attrs, map[string]any{"step_jitter": 0.9}))
	if len(errs) > 0 || set["step_jitter"] != 0.9 {
		t.Errorf("step_jitter = 0.9 normalizes to %v (errors %v)", set["step_jitter"], errs)
	}
	for _, bad := range []float64{1, 1.5, -0.1} {
		_, errs := Registry{}.Normalize("sampler", "hmc", withInput(attrs, map[string]any{"step_jitter": bad}))
		if len(errs) != 1 || errs[0].Attr != "step_jitter" {
			t.Errorf("step_jitter = %g gave %v, want one error on step_jitter", bad, errs)
			continue
		}
		if !strings.Contains(errs[0].Detail, "[0, 1)") {
			t.Errorf("step_jitter = %g: detail %q does not give the range [0, 1)", bad, errs[0].Detail)
		}
	}
}
