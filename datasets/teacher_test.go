package datasets

import (
	"math"
	"strings"
	"testing"

	"github.com/llcflow/llcflow/models"
	"github.com/llcflow/llcflow/rng"
)

func config(n int) TeacherStudent {
	return TeacherStudent{
		N: n, InDim: 3, Inputs: Inputs{Dist: "gauss_iso"},
		Teacher:     models.MLP{Widths: []int{3, 5, 2}, Activation: "tanh", Bias: true},
		TeacherInit: "he", Noise: Noise{Kind: "gauss", Scale: 0.3},
	}
}

func TestGenerateShapes(t *testing.T) {
	c := config(17)
	x, y, w, err := c.Generate(rng.New("shapes", "dataset", 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(x) != 17*3 {
		t.Errorf("len(x) = %d, want 51", len(x))
	}
	if len(y) != 17*2 {
		t.Errorf("len(y) = %d, want 34", len(y))
	}
	if want := 3*5 + 5 + 5*2 + 2; len(w) != want {
		t.Errorf("len(teacherW) = %d, want %d", len(w), want)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	c := config(50)
	x1, y1, w1, err := c.Generate(rng.New("det", "dataset", 0))
	if err != nil {
		t.Fatal(err)
	}
	x2, y2, w2, err := c.Generate(rng.New("det", "dataset", 0))
	if err != nil {
		t.Fatal(err)
	}
	for name, pair := range map[string][2][]float64{"x": {x1, x2}, "y": {y1, y2}, "teacherW": {w1, w2}} {
		for i := range pair[0] {
			if math.Float64bits(pair[0][i]) != math.Float64bits(pair[1][i]) {
				t.Fatalf("%s[%d] = %v then %v from the same stream", name, i, pair[0][i], pair[1][i])
			}
		}
	}
	x3, _, _, err := c.Generate(rng.New("det", "dataset", 1))
	if err != nil {
		t.Fatal(err)
	}
	if x3[0] == x1[0] && x3[1] == x1[1] {
		t.Errorf("x from another stream starts like the first one: %v %v", x3[:2], x1[:2])
	}
}

// TestGenerateMoments checks x ~ N(0, I) and the noise of y against their
// distributions within 4 standard errors. For N normal draws of variance
// σ², the sample mean has SE σ/√N and the sample variance σ²·√(2/(N−1)).
// A sample covariance of independent unit coordinates has SE 1/√N.
func TestGenerateMoments(t *testing.T) {
	const n = 20_000
	c := config(n)
	x, y, w, err := c.Generate(rng.New("moments", "dataset", 0))
	if err != nil {
		t.Fatal(err)
	}

	for j := 0; j < c.InDim; j++ {
		col := column(x, c.InDim, j)
		mean, variance := meanVar(col)
		if se := 1 / math.Sqrt(n); math.Abs(mean) > 4*se {
			t.Errorf("x column %d mean = %.4g, want 0 within %.4g", j, mean, 4*se)
		}
		if se := math.Sqrt(2.0 / (n - 1)); math.Abs(variance-1) > 4*se {
			t.Errorf("x column %d variance = %.4g, want 1 within %.4g", j, variance, 4*se)
		}
	}
	cov := 0.0
	for i := 0; i < n; i++ {
		cov += x[i*c.InDim] * x[i*c.InDim+1]
	}
	cov /= n
	if se := 1 / math.Sqrt(n); math.Abs(cov) > 4*se {
		t.Errorf("cov(x0, x1) = %.4g, want 0 within %.4g", cov, 4*se)
	}

	f0, err := c.Teacher.Predict(w, x, n)
	if err != nil {
		t.Fatal(err)
	}
	noise := make([]float64, len(y))
	for i := range y {
		noise[i] = y[i] - f0[i]
	}
	sigma2 := c.Noise.Scale * c.Noise.Scale
	mean, variance := meanVar(noise)
	m := float64(len(noise))
	if se := math.Sqrt(sigma2 / m); math.Abs(mean) > 4*se {
		t.Errorf("noise mean = %.4g, want 0 within %.4g", mean, 4*se)
	}
	if se := sigma2 * math.Sqrt(2/(m-1)); math.Abs(variance-sigma2) > 4*se {
		t.Errorf("noise variance = %.5g, want %.5g within %.4g", variance, sigma2, 4*se)
	}
}

func TestGenerateWithoutNoiseMatchesTeacher(t *testing.T) {
	c := config(30)
	c.Noise.Scale = 0
	x, y, w, err := c.Generate(rng.New("noiseless", "dataset", 0))
	if err != nil {
		t.Fatal(err)
	}
	f0, err := c.Teacher.Predict(w, x, c.N)
	if err != nil {
		t.Fatal(err)
	}
	for i := range y {
		if y[i] != f0[i] {
			t.Fatalf("y[%d] = %v, teacher output %v, want equal with zero noise", i, y[i], f0[i])
		}
	}
}

func TestGenerateTeacherBiasesZero(t *testing.T) {
	c := config(5)
	_, _, w, err := c.Generate(rng.New("bias", "dataset", 0))
	if err != nil {
		t.Fatal(err)
	}
	biases := 0
	for _, p := range c.Teacher.Params() {
		if len(p.Shape) != 1 {
			continue
		}
		for i := p.Offset; i < p.Offset+p.Shape[0]; i++ {
			biases++
			if w[i] != 0 {
				t.Errorf("%s[%d] = %v, want 0", p.Name, i-p.Offset, w[i])
			}
		}
	}
	if biases != 5+2 {
		t.Errorf("checked %d biases, want 7", biases)
	}
}

func TestGenerateRejectsInvalidConfig(t *testing.T) {
	cases := []struct {
		name   string
		modify func(*TeacherStudent)
		want   string
	}{
		{"x_dist", func(c *TeacherStudent) { c.Inputs.Dist = "uniform" }, `x_dist "uniform" is not supported`},
		{"noise kind", func(c *TeacherStudent) { c.Noise.Kind = "laplace" }, `noise kind "laplace" is not supported`},
		{"cov_decay", func(c *TeacherStudent) { c.Inputs = Inputs{Dist: "gauss_aniso", CovDecay: 1.5} }, "cov_decay 1.5"},
		{"components", func(c *TeacherStudent) { c.Inputs = Inputs{Dist: "mixture"} }, "components 0"},
		{"spread", func(c *TeacherStudent) { c.Inputs = Inputs{Dist: "mixture", Components: 2, Spread: -1} }, "spread -1"},
		{"latent_dim", func(c *TeacherStudent) { c.Inputs = Inputs{Dist: "lowdim_manifold", LatentDim: 4} }, "latent_dim 4"},
		{"heavy_tail df", func(c *TeacherStudent) { c.Inputs = Inputs{Dist: "heavy_tail"} }, "df 0"},
		{"hetero", func(c *TeacherStudent) { c.Noise = Noise{Kind: "hetero", Scale: 1, Hetero: -2} }, "hetero -2"},
		{"student_t df", func(c *TeacherStudent) { c.Noise = Noise{Kind: "student_t", Scale: 1} }, "df 0"},
		{"outlier frac", func(c *TeacherStudent) { c.Noise = Noise{Kind: "outliers", OutlierFrac: 2} }, "fraction 2"},
		{"in_dim", func(c *TeacherStudent) { c.InDim = 4 }, "in_dim is 4"},
		{"n", func(c *TeacherStudent) { c.N = 0 }, "n = 0"},
		{"noise scale", func(c *TeacherStudent) { c.Noise.Scale = -1 }, "noise scale -1"},
		{"init", func(c *TeacherStudent) { c.TeacherInit = "orthogonal" }, `"orthogonal"`},
		{"activation", func(c *TeacherStudent) { c.Teacher.Activation = "swish" }, `"swish"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := config(10)
			tc.modify(&c)
			_, _, _, err := c.Generate(rng.New("invalid", "dataset", 0))
			if err == nil {
				t.Fatalf("Generate succeeded, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func column(a []float64, cols, j int) []float64 {
	out := make([]float64, 0, len(a)/cols)
	for i := j; i < len(a); i += cols {
		out = append(out, a[i])
	}
	return out
}

func meanVar(a []float64) (mean, variance float64) {
	for _, v := range a {
		mean += v
	}
	mean /= float64(len(a))
	for _, v := range a {
		variance += (v - mean) * (v - mean)
	}
	return mean, variance / float64(len(a)-1)
}
