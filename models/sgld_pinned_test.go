package models

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/llcflow/llcflow/rng"
	"github.com/llcflow/llcflow/samplers"
)

// buildSetting returns the value of key in the test binary's build
// settings, or "" when it is not recorded.
func buildSetting(key string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

// TestSGLDOnMLPPinned pins the bits of short minibatch SGLD runs on the
// benchmarked MLPs: every recorded loss, MALA probability and the final
// acceptance rate. It fails when a change to the MLP kernels, the
// activations, rng or the sampler changes any estimate or trace.
func TestSGLDOnMLPPinned(t *testing.T) {
	// The sampler's arithmetic is not written against multiply-add
	// fusion, which other architectures and GOAMD64 levels from v3 up
	// allow, so the digests hold for amd64 at GOAMD64=v1 only.
	if level := buildSetting("GOAMD64"); runtime.GOARCH != "amd64" || level != "v1" {
		t.Skipf("digests are pinned for GOARCH=amd64 GOAMD64=v1, not %s %s", runtime.GOARCH,
			level)
	}
	cases := []struct {
		widths []int
		act    string
		steps  int
		want   string
	}{
		{[]int{4, 16, 1}, "relu", 300, "c102b9d814c06534"},
		{[]int{4, 16, 1}, "tanh", 300, "8f7ff22836b52776"},
		{[]int{4, 16, 1}, "gelu", 300, "4f7440d3959c93f3"},
		{[]int{4, 16, 1}, "identity", 300, "3681a3a3535da3fc"},
		{[]int{32, 303, 1}, "relu", 12, "0b01c279d3acec3f"},
		{[]int{32, 303, 1}, "tanh", 12, "4b419b55061393bc"},
		{[]int{5, 9, 7, 2}, "relu", 100, "29deb5876ee573cb"},
		{[]int{5, 9, 7, 2}, "gelu", 100, "4aef9f8b27271f46"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%v/%s", tc.widths, tc.act), func(t *testing.T) {
			reg, w := newTestRegression(t, tc.widths, tc.act, true, 300, "pinned-sgld")
			cfg := samplers.SGLDConfig{
				Common: samplers.Common{
					Chains: 2, NBeta: 30, Gamma: 100, InitNoise: 0.01, Seed: "pinned",
				},
				StepSize: 1e-4, BatchSize: 70, Warmup: 5, Steps: tc.steps, EvalEvery: 3,
			}
			run, err := samplers.SGLD(context.Background(), reg, w, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := runDigest(run); got != tc.want {
				t.Errorf("digest %s, want %s", got, tc.want)
			}
		})
	}
}

// runDigest returns the first 16 hex digits of SHA-256 over the bits of
// every recorded loss and MALA probability and each chain's acceptance
// rate.
func runDigest(run *samplers.Run) string {
	h := sha256.New()
	var buf [8]byte
	put := func(v float64) {
		binary.LittleEndian.PutUint64(buf[:], math.Float64bits(v))
		h.Write(buf[:])
	}
	for _, ch := range run.Chains {
		for i, loss := range ch.Loss {
			put(loss)
			put(ch.Series["mala_accept"][i])
		}
		put(ch.Stats["acceptance_rate"])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// TestLossGradSIMDMatchesPortableBits compares the loss and gradient of
// whole networks on the selected kernels with the portable code, bit for
// bit, on minibatches and on the full data, for every activation.
func TestLossGradSIMDMatchesPortableBits(t *testing.T) {
	if !useSIMD {
		t.Skip("this CPU has no AVX-512F; the network runs on the portable code")
	}
	shapes := [][]int{{4, 16, 1}, {32, 303, 1}, {5, 19, 6, 2}, {3, 17, 9, 1}, {1, 1}}
	for _, widths := range shapes {
		for _, act := range []string{"relu", "tanh", "gelu", "identity"} {
			for _, bias := range []bool{true, false} {
				name := fmt.Sprintf("%v/%s/bias=%v", widths, act, bias)
				t.Run(name, func(t *testing.T) {
					reg, w := newTestRegression(t, widths, act, bias, 203, "simd-"+name)
					batch := make([]int, 131)
					perm := make([]int, 203)
					for i := range perm {
						perm[i] = i
					}
					rng.New("simd", name, 0).Sample(perm, len(batch), batch)
					for _, rows := range [][]int{batch, nil, batch[:5]} {
						compareLossGradPaths(t, reg, w, rows)
					}
				})
			}
		}
	}
}

func compareLossGradPaths(t *testing.T, reg *Supervised, w []float64, batch []int) {
	t.Helper()
	got := make([]float64, len(w))
	want := make([]float64, len(w))
	gotLoss := reg.NewEvaluator().LossGrad(w, batch, got)
	var wantLoss float64
	withPortable(func() { wantLoss = reg.NewEvaluator().LossGrad(w, batch, want) })
	if math.Float64bits(gotLoss) != math.Float64bits(wantLoss) {
		t.Fatalf("%d rows: loss %x, portable %x", len(batch), gotLoss, wantLoss)
	}
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%d rows: ∂L/∂w[%d] = %x, portable %x", len(batch), i, got[i], want[i])
		}
	}
}
