package report

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPooledRanksAverageTies(t *testing.T) {
	got := pooledRanks([][]float64{{3, 1}, {1, 2}})
	want := [][]float64{{4, 1.5}, {1.5, 3}}
	for c := range want {
		if !slices.Equal(got[c], want[c]) {
			t.Errorf("chain %d ranks %v, want %v", c, got[c], want[c])
		}
	}
}

// syntheticTrace returns chains × draws draws of a smooth deterministic
// signal with the given per-draw series.
func syntheticTrace(chains, draws int, series ...string) *Trace {
	tr := &Trace{Series: series}
	for c := range chains {
		ch := Chain{Series: map[string][]float64{}}
		for i := range draws {
			v := 2 + math.Sin(float64(i)/7+float64(c))
			ch.Step = append(ch.Step, float64(10*i+9))
			ch.LLC = append(ch.LLC, v)
			ch.Loss = append(ch.Loss, 0.1+v/100)
			for _, s := range series {
				ch.Series[s] = append(ch.Series[s], 0.5+0.4*math.Cos(float64(i)))
			}
		}
		tr.Chains = append(tr.Chains, ch)
	}
	return tr
}

func figureNames(figs []*Figure) []string {
	var names []string
	for _, f := range figs {
		names = append(names, f.Name)
	}
	return names
}

func TestRunFiguresPerKind(t *testing.T) {
	s := &Summary{LLCMean: ptr(2), LLCSE: ptr(0.1), LossStar: ptr(0.1)}
	base := []string{"running_llc", "loss", "autocorr", "rank"}
	cases := []struct {
		name   string
		series []string
		want   []string
	}{
		{"sgld", []string{"mala_accept"}, append(slices.Clone(base), "mala_accept")},
		{"hmc", []string{"energy_error"}, append(slices.Clone(base), "energy_error")},
		{"no series", nil, base},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			figs, err := RunFigures(syntheticTrace(3, 60, c.series...), s, "sampler.x")
			if err != nil {
				t.Fatal(err)
			}
			if got := figureNames(figs); !slices.Equal(got, c.want) {
				t.Errorf("figures %v, want %v", got, c.want)
			}
		})
	}
}

func TestRunFiguresRejectsEmptyTrace(t *testing.T) {
	if _, err := RunFigures(&Trace{}, &Summary{}, "sampler.x"); err == nil {
		t.Error("RunFigures of an empty trace succeeded, want an error")
	}
}

func TestFigureSavesPNGAndSVG(t *testing.T) {
	figs, err := RunFigures(syntheticTrace(2, 40, "mala_accept"), &Summary{LLCMean: ptr(2), LLCSE: ptr(0.1)}, "sampler.x")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := figs[0]
	if err := f.Save(dir); err != nil {
		t.Fatal(err)
	}
	pngName, svgName := f.Files()
	data, err := os.ReadFile(filepath.Join(dir, pngName))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode %s: %v", pngName, err)
	}
	if b := img.Bounds(); b.Dx() != 576 || b.Dy() != 384 {
		t.Errorf("%s is %d × %d pixels, want 576 × 384", pngName, b.Dx(), b.Dy())
	}
	svg, err := os.ReadFile(filepath.Join(dir, svgName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("running LLC")) {
		t.Errorf("%s lacks an <svg> element or its title", svgName)
	}
}

func TestFigureRenderIsDeterministic(t *testing.T) {
	render := func() ([]byte, []byte) {
		figs, err := RunFigures(syntheticTrace(2, 40), &Summary{LLCMean: ptr(2), LLCSE: ptr(0.1)}, "sampler.x")
		if err != nil {
			t.Fatal(err)
		}
		p, err := figs[1].Render("png")
		if err != nil {
			t.Fatal(err)
		}
		s, err := figs[1].Render("svg")
		if err != nil {
			t.Fatal(err)
		}
		return p, s
	}
	p1, s1 := render()
	p2, s2 := render()
	if !bytes.Equal(p1, p2) || !bytes.Equal(s1, s2) {
		t.Error("two renders of the same figure differ")
	}
}

func sweepRows() []SweepRow {
	var rows []SweepRow
	for _, width := range []float64{4, 8, 16} {
		for _, sampler := range []string{"sgld", "hmc"} {
			fam := "fam" + FormatCell(width)
			rows = append(rows, SweepRow{
				Address: "sampler." + sampler + "[width=" + FormatCell(width) + "]", Sampler: sampler,
				FamilyID: fam, Family: "erm.fit[width=" + FormatCell(width) + "]",
				Axes: map[string]any{"width": width, "opt": "adam", "seed": 0.0},
				D:    int(width * 5), LLCMean: ptr(width / 2), LLCSE: ptr(0.1),
				ESSPerSecond: ptr(100 / width), WNVTime: ptr(width / 1000), WNVFDE: ptr(width),
			})
		}
	}
	return rows
}

func TestSweepFigures(t *testing.T) {
	figs := SweepFigures(Sweep{Axes: []string{"seed", "width", "opt"}, Rows: sweepRows()})
	want := []string{"llc_vs_width", "ess_per_second", "wnv", "compare_fam16", "compare_fam4", "compare_fam8"}
	if got := figureNames(figs); !slices.Equal(got, want) {
		t.Errorf("figures %v, want %v (seed has one value and opt is not numeric)", got, want)
	}
	for _, f := range figs {
		if _, err := f.Render("png"); err != nil {
			t.Errorf("render %s: %v", f.Name, err)
		}
	}
}

func TestSweepComparisonNeedsTwoRunsOrLambda(t *testing.T) {
	rows := []SweepRow{
		{Address: "sampler.a", Sampler: "a", FamilyID: "one", LLCMean: ptr(1)},
		{Address: "sampler.b", Sampler: "b", FamilyID: "target", LLCMean: ptr(0.5), LambdaTrue: ptr(0.5), LambdaExact: ptr(0.49)},
	}
	got := figureNames(SweepFigures(Sweep{Rows: rows}))
	if !slices.Equal(got, []string{"compare_target"}) {
		t.Errorf("figures %v, want only compare_target", got)
	}
}

func TestSweepTrainingFigure(t *testing.T) {
	var rows []SweepRow
	for _, step := range []float64{100, 500, 1000} {
		rows = append(rows, SweepRow{Address: "sampler.sgld[checkpoint=" + FormatCell(step) + "]", Sampler: "sgld",
			FamilyID: "fam", LLCMean: ptr(step / 100), LLCSE: ptr(0.2), CheckpointStep: ptr(step)})
	}
	curves := map[string][]CurvePoint{"fam": {{0, 1}, {500, 0.1}, {1000, 0.01}}}
	figs := SweepFigures(Sweep{Rows: rows, Curves: curves})
	i := slices.IndexFunc(figs, func(f *Figure) bool { return f.Name == "llc_vs_training_step" })
	if i < 0 {
		t.Fatalf("figures %v lack llc_vs_training_step", figureNames(figs))
	}
	f := figs[i]
	if len(f.Panels) != 1 || len(f.Panels[0]) != 2 {
		t.Fatalf("training figure has %d rows of panels, want one row of two", len(f.Panels))
	}
	svg, err := f.Render("svg")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"LLC along training", "Training loss"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("training figure lacks the panel %q", want)
		}
	}
}

func TestCheckpointStep(t *testing.T) {
	if got := CheckpointStep(&Summary{CheckpointStep: ptr(300)}, map[string]any{"checkpoint": 5.0}); !near(got, 300) {
		t.Errorf("checkpoint step %v, want 300 from result.json", deref(got))
	}
	if got := CheckpointStep(&Summary{}, map[string]any{"checkpoint": 5.0}); !near(got, 5) {
		t.Errorf("checkpoint step %v, want 5 from the axis", deref(got))
	}
	if got := CheckpointStep(&Summary{}, map[string]any{"seed": 1.0}); got != nil {
		t.Errorf("checkpoint step %v, want nil", *got)
	}
}

func TestUseLogScale(t *testing.T) {
	if !useLogScale([]float64{1e-5, 1e-4, 1e-3}) {
		t.Error("step sizes over two decades should use a log axis")
	}
	if useLogScale([]float64{4, 8, 16}) || useLogScale([]float64{0, 10, 1000}) {
		t.Error("narrow or non-positive values should use a linear axis")
	}
}
