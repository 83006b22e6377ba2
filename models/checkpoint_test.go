package models

import (
	"context"
	"math"
	"strings"
	"testing"
)

// TestTrainResumeIsBitIdentical saves the state at steps 0, 17 and 40 of
// a 60-step run and resumes from each: the resumed runs must end at the
// same bits as the uninterrupted one, for both optimizers.
func TestTrainResumeIsBitIdentical(t *testing.T) {
	for _, opt := range []string{"adam", "sgd"} {
		t.Run(opt, func(t *testing.T) {
			reg, w0 := newTestRegression(t, []int{3, 6, 2}, "tanh", true, 90, "resume-"+opt)
			cfg := TrainConfig{Optimizer: opt, LR: 0.02, Steps: 60, LogEvery: 5, WeightDecay: 0.01}

			saved := map[int]TrainState{}
			losses := map[int]float64{}
			full := append([]float64(nil), w0...)
			res, err := Train(context.Background(), reg.NewEvaluator(), full, cfg, TrainHooks{
				SaveAt: []int{0, 17, 40, 99},
				Save: func(s TrainState, loss float64) error {
					saved[s.Step] = cloneState(s)
					losses[s.Step] = loss
					return nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(saved) != 3 {
				t.Fatalf("saved steps %v, want 0, 17 and 40 (99 is past the end)", keys(saved))
			}
			if got := reg.NewEvaluator().Loss(saved[17].W); got != losses[17] {
				t.Errorf("loss passed to Save at step 17 = %v, L_n of the saved weights %v", losses[17], got)
			}

			for _, step := range []int{0, 17, 40} {
				state := saved[step]
				w := make([]float64, len(w0))
				resumed, err := Train(context.Background(), reg.NewEvaluator(), w, cfg, TrainHooks{Resume: &state})
				if err != nil {
					t.Fatal(err)
				}
				for i := range w {
					if math.Float64bits(w[i]) != math.Float64bits(full[i]) {
						t.Fatalf("resumed from step %d: w[%d] = %v, uninterrupted %v", step, i, w[i], full[i])
					}
				}
				if resumed.FinalLoss != res.FinalLoss || resumed.GradNorm != res.GradNorm {
					t.Errorf("resumed from step %d: final loss %v, grad norm %v, uninterrupted %v, %v",
						step, resumed.FinalLoss, resumed.GradNorm, res.FinalLoss, res.GradNorm)
				}
				if first := resumed.Curve[0].Step; first != step {
					t.Errorf("resumed from step %d: curve starts at step %d", step, first)
				}
			}
		})
	}
}

func cloneState(s TrainState) TrainState {
	c := s
	c.W = append([]float64(nil), s.W...)
	c.M = append([]float64(nil), s.M...)
	c.V = append([]float64(nil), s.V...)
	return c
}

func keys(m map[int]TrainState) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestTrainResumeRejectsBadState(t *testing.T) {
	reg, w := newTestRegression(t, []int{2, 1}, "identity", true, 10, "resume-bad")
	cases := []struct {
		name  string
		state TrainState
		want  string
	}{
		{"weights", TrainState{Step: 1, W: []float64{1}}, "1 weights, the model has 3"},
		{"moments", TrainState{Step: 1, W: []float64{1, 2, 3}, M: []float64{0}}, "Adam moments"},
		{"after end", TrainState{Step: 9, W: []float64{1, 2, 3}, M: make([]float64, 3), V: make([]float64, 3)}, "after the last step 5"},
	}
	for _, tc := range cases {
		_, err := Train(context.Background(), reg.NewEvaluator(), w, TrainConfig{Steps: 5}, TrainHooks{Resume: &tc.state})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// TestTrainWeightDecayReachesRidge trains y = wᵀx with the penalty
// (α/2)‖w‖², whose minimum solves (H + αI)w = q with H = (2/n)XᵀX and
// q = (2/n)Xᵀy, and checks the gradient norm at that point.
func TestTrainWeightDecayReachesRidge(t *testing.T) {
	const n, alpha = 200, 0.5
	reg, _ := newTestRegression(t, []int{3, 1}, "identity", false, n, "ridge")
	x, y := reg.x, reg.y

	var h [4][4]float64
	var q [4]float64
	h[3][3] = 1 // the fourth coordinate is unused
	for i := 0; i < n; i++ {
		for a := 0; a < 3; a++ {
			q[a] += 2 * x[i*3+a] * y[i] / n
			for b := 0; b < 3; b++ {
				h[a][b] += 2 * x[i*3+a] * x[i*3+b] / n
			}
		}
	}
	for a := 0; a < 3; a++ {
		h[a][a] += alpha
	}
	ridge := solve(h, q)

	w := []float64{0, 0, 0}
	res, err := Train(context.Background(), reg.NewEvaluator(), w,
		TrainConfig{Optimizer: "sgd", LR: 0.1, Steps: 500, WeightDecay: alpha}, TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	for a := 0; a < 3; a++ {
		if math.Abs(w[a]-ridge[a]) > 1e-9 {
			t.Errorf("w[%d] = %.12g, ridge solution %.12g", a, w[a], ridge[a])
		}
	}
	if res.GradNorm > 1e-8 {
		t.Errorf("gradient norm of the penalized objective = %g, want below 1e-8", res.GradNorm)
	}
}
