package datasets

import (
	"math"
	"strings"
	"testing"

	"github.com/llcflow/llcflow/models"
	"github.com/llcflow/llcflow/rng"
)

func classConfig(n, classes int, labels string) Classification {
	return Classification{
		N: n, InDim: 3, Inputs: Inputs{Dist: "gauss_iso"},
		Teacher:     models.MLP{Widths: []int{3, 8, classes}, Activation: "tanh", Bias: false},
		TeacherInit: "he", Labels: labels, LogitScale: 2,
	}
}

// TestSampledLabelsFollowTeacher bins rows by the teacher's probability of
// their label's class and checks, per class, that the number of rows with
// that label matches Σ_i p_k(x_i) within 4 standard deviations
// √(Σ p(1 − p)), for a 3-class and a binary teacher.
func TestSampledLabelsFollowTeacher(t *testing.T) {
	for _, classes := range []int{3, 1} {
		c := classConfig(20_000, classes, "sample")
		x, y, w, err := c.Generate(rng.New("labels", "dataset", 0))
		if err != nil {
			t.Fatal(err)
		}
		logits, err := c.Teacher.Predict(w, x, c.N)
		if err != nil {
			t.Fatal(err)
		}
		k := c.Classes()
		out := c.Teacher.Widths[2]
		want := make([]float64, k)
		variance := make([]float64, k)
		got := make([]float64, k)
		p := make([]float64, k)
		for i := 0; i < c.N; i++ {
			c.probabilities(logits[i*out:i*out+out], p)
			for j, v := range p {
				want[j] += v
				variance[j] += v * (1 - v)
			}
			got[int(y[i])]++
		}
		for j := range want {
			if sd := math.Sqrt(variance[j]); math.Abs(got[j]-want[j]) > 4*sd {
				t.Errorf("%d outputs: class %d has %v labels, want %.0f within %.0f", classes, j, got[j], want[j], 4*sd)
			}
		}
	}
}

func TestArgmaxLabels(t *testing.T) {
	c := classConfig(500, 4, "argmax")
	x, y, w, err := c.Generate(rng.New("argmax", "dataset", 0))
	if err != nil {
		t.Fatal(err)
	}
	logits, err := c.Teacher.Predict(w, x, c.N)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[float64]bool{}
	for i := 0; i < c.N; i++ {
		f := logits[i*4 : i*4+4]
		best := 0
		for j, v := range f {
			if v > f[best] {
				best = j
			}
		}
		if y[i] != float64(best) {
			t.Fatalf("y[%d] = %v, want the teacher's argmax %d", i, y[i], best)
		}
		seen[y[i]] = true
	}
	if len(seen) < 2 {
		t.Errorf("only labels %v occur, want several classes", seen)
	}
}

func TestClassificationRejectsInvalidConfig(t *testing.T) {
	cases := []struct {
		name   string
		modify func(*Classification)
		want   string
	}{
		{"labels", func(c *Classification) { c.Labels = "noisy" }, `labels "noisy"`},
		{"scale", func(c *Classification) { c.LogitScale = 0 }, "logit scale 0"},
		{"in_dim", func(c *Classification) { c.InDim = 5 }, "in_dim is 5"},
		{"n", func(c *Classification) { c.N = 0 }, "n = 0"},
	}
	for _, tc := range cases {
		c := classConfig(10, 3, "sample")
		tc.modify(&c)
		_, _, _, err := c.Generate(rng.New("invalid", "dataset", 0))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}
