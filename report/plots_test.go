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

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
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
			FamilyID: "fam" + FormatCell(step), LLCMean: ptr(step / 100), LLCSE: ptr(0.2), CheckpointStep: ptr(step),
			TrainingID: "train"})
	}
	curves := map[string][]CurvePoint{"train": {{0, 1, 0.3}, {500, 0.1, 0.8}, {1000, 0.01, 0.95}}}
	figs := SweepFigures(Sweep{Rows: rows, Curves: curves})
	i := slices.IndexFunc(figs, func(f *Figure) bool { return f.Name == "llc_vs_training_step" })
	if i < 0 {
		t.Fatalf("figures %v lack llc_vs_training_step", figureNames(figs))
	}
	f := figs[i]
	if len(f.Panels) != 1 || len(f.Panels[0]) != 3 {
		t.Fatalf("training figure has %d rows of panels, want one row of three", len(f.Panels))
	}
	svg, err := f.Render("svg")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"LLC along training", "Training loss", "Training accuracy"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("training figure lacks the panel %q", want)
		}
	}
}

func TestCheckpointStep(t *testing.T) {
	checkpoint := &Family{Checkpoint: ptr(400), TrainedRunID: "train"}
	if got := CheckpointStep(&Summary{CheckpointStep: ptr(300)}, checkpoint); !near(got, 300) {
		t.Errorf("checkpoint step %v, want 300 from result.json", deref(got))
	}
	if got := CheckpointStep(&Summary{}, checkpoint); !near(got, 400) {
		t.Errorf("checkpoint step %v, want 400 from the checkpoint erm", deref(got))
	}
	if got := CheckpointStep(&Summary{}, &Family{}); got != nil {
		t.Errorf("checkpoint step %v for a training erm, want nil", *got)
	}
	if got := CheckpointStep(&Summary{}, nil); got != nil {
		t.Errorf("checkpoint step %v without a family, want nil", *got)
	}
}

func TestTrainingFigureWithoutAccuracy(t *testing.T) {
	rows := []SweepRow{{Address: "sampler.hmc[step=5]", Sampler: "hmc", FamilyID: "at5", LLCMean: ptr(1),
		CheckpointStep: ptr(5), TrainingID: "train"}}
	curves := map[string][]CurvePoint{"train": {{0, 1, math.NaN()}, {10, 0.5, math.NaN()}}}
	f := trainingFigure(Sweep{Rows: rows, Curves: curves})
	if f == nil {
		t.Fatal("no training figure for a row with a checkpoint step")
	}
	if len(f.Panels[0]) != 2 {
		t.Errorf("regression training figure has %d panels, want 2 (LLC and loss)", len(f.Panels[0]))
	}
}

func TestReadCurveAccuracy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "curve.csv")
	if err := os.WriteFile(path, []byte("step,loss,accuracy\n0,1.5,0.25\n20,0.5,0.75\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	curve, err := ReadCurve(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(curve) != 2 || curve[1] != (CurvePoint{Step: 20, Loss: 0.5, Accuracy: 0.75}) {
		t.Errorf("curve %v, want the second point {20 0.5 0.75}", curve)
	}
	if err := os.WriteFile(path, []byte("step,loss\n0,1.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	curve, err = ReadCurve(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(curve) != 1 || !math.IsNaN(curve[0].Accuracy) {
		t.Errorf("curve %v, want one point with a NaN accuracy", curve)
	}
	if err := os.WriteFile(path, []byte("step,loss,extra\n0,1.5,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCurve(path); err == nil {
		t.Error("a curve with an unknown third column was read")
	}
}

func TestIntegerTicks(t *testing.T) {
	for _, tick := range (integerTicks{}).Ticks(0, 1000) {
		if tick.Value != math.Trunc(tick.Value) {
			t.Errorf("tick at %v is not a whole number", tick.Value)
		}
		if strings.Contains(tick.Label, ".") {
			t.Errorf("tick label %q has a decimal point", tick.Label)
		}
	}
	labels := 0
	for _, tick := range (plainTicks{}).Ticks(0, 1000) {
		if tick.Label != "" {
			labels++
		}
		if strings.HasSuffix(tick.Label, ".00") {
			t.Errorf("tick label %q has trailing zeros", tick.Label)
		}
	}
	if labels < 2 {
		t.Errorf("plain ticks over 0..1000 have %d labels, want at least 2", labels)
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

func TestLegendAboveData(t *testing.T) {
	p := newPlot("legend", "x", "y")
	addLine(p, plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 10}}, seriesColor(0), "a sampler")
	addLine(p, plotter.XYs{{X: 0, Y: 10}, {X: 1, Y: 0}}, seriesColor(1), "another sampler")
	img := vgimg.New(panelWidth, panelHeight)
	c := draw.New(img)
	yMax := legendYMax(p, c)
	if !(yMax > 10) {
		t.Fatalf("y range top %v, want it raised above the data maximum 10", yMax)
	}
	area := p.DataCanvas(c)
	h := float64(area.Size().Y)
	dataTop := float64(area.Min.Y) + h*(10-p.Y.Min)/(yMax-p.Y.Min)
	legendBottom := float64(area.Max.Y) - float64(p.Legend.Rectangle(draw.Canvas{}).Size().Y)
	if dataTop > legendBottom {
		t.Errorf("data reach %.1f pt, above the legend's bottom edge at %.1f pt", dataTop, legendBottom)
	}
	drawPanel(p, c)
	if p.Y.Max != 10 {
		t.Errorf("y range top %v after drawing, want the data maximum 10 back", p.Y.Max)
	}
}
