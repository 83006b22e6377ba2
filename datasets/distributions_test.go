package datasets

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/llcflow/llcflow/rng"
)

// The moment checks below use 4 standard errors. For m independent draws
// of variance σ² and fourth central moment μ4, the sample mean has SE
// σ/√m and the sample variance SE √((μ4 − σ⁴)/m), which is σ²·√(2/m) for
// normal draws (μ4 = 3σ⁴).

func checkMoments(t *testing.T, name string, v []float64, wantVar, mu4 float64) {
	t.Helper()
	m := float64(len(v))
	mean, variance := meanVar(v)
	if se := math.Sqrt(wantVar / m); math.Abs(mean) > 4*se {
		t.Errorf("%s mean = %.4g, want 0 within %.4g", name, mean, 4*se)
	}
	if se := math.Sqrt((mu4 - wantVar*wantVar) / m); math.Abs(variance-wantVar) > 4*se {
		t.Errorf("%s variance = %.5g, want %.5g within %.4g", name, variance, wantVar, 4*se)
	}
}

func TestGaussAnisoColumnVariances(t *testing.T) {
	const n, dim, rho = 20_000, 4, 0.5
	x, err := Inputs{Dist: "gauss_aniso", CovDecay: rho}.draw(rng.New("aniso", "x", 0), n, dim)
	if err != nil {
		t.Fatal(err)
	}
	variance := 1.0
	for j := 0; j < dim; j++ {
		checkMoments(t, "column", column(x, dim, j), variance, 3*variance*variance)
		variance *= rho
	}
}

// TestMixtureComponents redraws the means from the same stream, assigns
// each row to its nearest mean (the means are far apart at spread 20) and
// checks the within-component noise against N(0, I) and the component
// counts against Binomial(n, 1/K) within 4 standard deviations.
func TestMixtureComponents(t *testing.T) {
	const n, dim, k, spread = 8000, 3, 4, 20.0
	in := Inputs{Dist: "mixture", Components: k, Spread: spread}
	x, err := in.draw(rng.New("mixture", "x", 0), n, dim)
	if err != nil {
		t.Fatal(err)
	}
	means := make([]float64, k*dim)
	rng.New("mixture", "x", 0).FillNorm(means)
	for i := range means {
		means[i] *= spread
	}

	counts := make([]int, k)
	var residual []float64
	for i := 0; i < n; i++ {
		row := x[i*dim : i*dim+dim]
		best, bestDist := 0, math.Inf(1)
		for c := 0; c < k; c++ {
			d := 0.0
			for j, v := range row {
				d += (v - means[c*dim+j]) * (v - means[c*dim+j])
			}
			if d < bestDist {
				best, bestDist = c, d
			}
		}
		counts[best]++
		for j, v := range row {
			residual = append(residual, v-means[best*dim+j])
		}
	}
	checkMoments(t, "within-component noise", residual, 1, 3)
	p := 1.0 / k
	for c, got := range counts {
		if sd := math.Sqrt(n * p * (1 - p)); math.Abs(float64(got)-n*p) > 4*sd {
			t.Errorf("component %d has %d rows, want %.0f within %.0f", c, got, n*p, 4*sd)
		}
	}
}

func TestLowdimManifoldRank(t *testing.T) {
	const n, dim, k = 200, 6, 2
	x, err := Inputs{Dist: "lowdim_manifold", LatentDim: k}.draw(rng.New("manifold", "x", 0), n, dim)
	if err != nil {
		t.Fatal(err)
	}
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(n, dim, x), mat.SVDNone) {
		t.Fatal("SVD did not converge")
	}
	values := svd.Values(nil)
	rank := 0
	for _, s := range values {
		if s > 1e-10*values[0] {
			rank++
		}
	}
	if rank != k {
		t.Errorf("inputs span %d dimensions (singular values %v), want %d", rank, values, k)
	}
}

// TestHeavyTailMoments checks one coordinate of the multivariate t with
// ν = 10: variance ν/(ν − 2) = 1.25 and kurtosis 3 + 6/(ν − 4) = 4.
func TestHeavyTailMoments(t *testing.T) {
	const n, dim, nu = 40_000, 2, 10
	x, err := Inputs{Dist: "heavy_tail", DF: nu}.draw(rng.New("heavy", "x", 0), n, dim)
	if err != nil {
		t.Fatal(err)
	}
	variance := float64(nu) / (nu - 2)
	checkMoments(t, "column 0", column(x, dim, 0), variance, 4*variance*variance)
}

func TestHeteroNoiseScalesWithNorm(t *testing.T) {
	const n, in, sigma, h = 20_000, 3, 0.2, 2.0
	r := rng.New("hetero", "noise", 0)
	x := make([]float64, n*in)
	r.FillNorm(x)
	y := make([]float64, n)
	Noise{Kind: "hetero", Scale: sigma, Hetero: h}.add(r, x, y, n)
	standardized := make([]float64, n)
	for i := range y {
		norm := math.Sqrt((x[i*3]*x[i*3] + x[i*3+1]*x[i*3+1] + x[i*3+2]*x[i*3+2]) / in)
		standardized[i] = y[i] / (sigma * (1 + h*norm))
	}
	checkMoments(t, "standardized noise", standardized, 1, 3)
}

// TestStudentTNoiseMoments uses ν = 10: variance σ²·1.25 and kurtosis 4.
func TestStudentTNoiseMoments(t *testing.T) {
	const n, sigma, nu = 40_000, 0.3, 10
	y := make([]float64, n)
	Noise{Kind: "student_t", Scale: sigma, DF: nu}.add(rng.New("student", "noise", 0), make([]float64, n), y, n)
	variance := sigma * sigma * nu / (nu - 2)
	checkMoments(t, "noise", y, variance, 4*variance*variance)
}

// TestOutlierNoiseMoments checks the scale mixture (1 − p)·N(0, σ²) +
// p·N(0, s²): variance (1 − p)σ² + p·s², fourth moment 3((1 − p)σ⁴ + p·s⁴).
func TestOutlierNoiseMoments(t *testing.T) {
	const n, sigma, p, s = 40_000, 0.1, 0.1, 2.0
	y := make([]float64, n)
	Noise{Kind: "outliers", Scale: sigma, OutlierFrac: p, OutlierScale: s}.add(rng.New("outliers", "noise", 0), make([]float64, n), y, n)
	variance := (1-p)*sigma*sigma + p*s*s
	mu4 := 3 * ((1-p)*math.Pow(sigma, 4) + p*math.Pow(s, 4))
	checkMoments(t, "noise", y, variance, mu4)

	large := 0
	for _, v := range y {
		if math.Abs(v) > 6*sigma {
			large++
		}
	}
	// A normal row exceeds 6σ with probability 2e-9, an outlier row with
	// probability P(|N(0, s²)| > 0.6) = 0.764.
	want := n * p * 0.764
	if sd := math.Sqrt(want * (1 - p*0.764)); math.Abs(float64(large)-want) > 4*sd {
		t.Errorf("%d draws beyond 6σ, want %.0f within %.0f", large, want, 4*sd)
	}
}
