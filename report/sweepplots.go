package report

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/llcflow/llcflow/graph"
)

// SweepRow is one sampler run as the sweep plots see it.
type SweepRow struct {
	Address string
	// Sampler is the sampler block's name: one line per sampler.
	Sampler string
	Kind    string
	// FamilyID is the run id of the erm or target node that the sampler
	// read, and Family that node's address.
	FamilyID, Family string
	// Axes are the sweep axis values of the run.
	Axes map[string]any
	D    int
	// LLCMean and LLCSE are the estimate and its standard error.
	LLCMean, LLCSE          *float64
	LambdaTrue, LambdaExact *float64
	ESSPerSecond            *float64
	WNVTime, WNVFDE         *float64
	// CheckpointStep is the training step of the erm checkpoint the
	// sampler ran at, or nil. TrainingID is the run id of the erm whose
	// curve.csv covers that step: the training erm of a checkpoint erm,
	// else FamilyID.
	CheckpointStep *float64
	TrainingID     string
}

// Sweep is the input of the sweep plots.
type Sweep struct {
	// Axes are the sweep axes in sweep-block order.
	Axes []string
	Rows []SweepRow
	// Curves holds the training curve of each erm by run id, keyed by the
	// rows' TrainingID.
	Curves map[string][]CurvePoint
}

// CurvePoint is one point of an erm training curve. Accuracy is NaN for a
// regression loss.
type CurvePoint struct {
	Step, Loss, Accuracy float64
}

// SweepFigures returns the figures across the runs of a sweep, leaving out
// those without data:
//   - the LLC against each numeric sweep axis that takes two or more values;
//   - ESS per second and the work-normalized variance against the model
//     size d;
//   - a sampler comparison per family with two or more runs or a known λ;
//   - the LLC against the training step, when runs have checkpoint steps.
func SweepFigures(s Sweep) []*Figure {
	var figs []*Figure
	for _, axis := range s.Axes {
		if f := llcVsAxisFigure(s.Rows, axis); f != nil {
			figs = append(figs, f)
		}
	}
	if f := essPerSecondFigure(s.Rows); f != nil {
		figs = append(figs, f)
	}
	if f := wnvFigure(s.Rows); f != nil {
		figs = append(figs, f)
	}
	figs = append(figs, comparisonFigures(s.Rows)...)
	if f := trainingFigure(s); f != nil {
		figs = append(figs, f)
	}
	return figs
}

// point is one estimate at an x position.
type point struct {
	x, y, err float64
}

// samplerPoints groups points by sampler name, in name order.
type samplerPoints struct {
	names  []string
	points map[string][]point
}

func (sp *samplerPoints) add(name string, p point) {
	if sp.points == nil {
		sp.points = map[string][]point{}
	}
	if _, ok := sp.points[name]; !ok {
		sp.names = append(sp.names, name)
	}
	sp.points[name] = append(sp.points[name], p)
}

// ys returns the y values of every point.
func (sp *samplerPoints) ys() []float64 {
	var ys []float64
	for _, pts := range sp.points {
		for _, p := range pts {
			ys = append(ys, p.y)
		}
	}
	return ys
}

func (sp *samplerPoints) sorted() []string {
	names := slices.Clone(sp.names)
	slices.Sort(names)
	return names
}

// errorPoints implements plotter.XYer and plotter.YErrorer.
type errorPoints struct {
	plotter.XYs
	plotter.YErrors
}

// addSamplerSeries draws, per sampler, every point with ±err bars and a
// line through the mean of the points at each x.
func addSamplerSeries(p *plot.Plot, sp *samplerPoints, withErrors bool) {
	for i, name := range sp.sorted() {
		pts := sp.points[name]
		slices.SortStableFunc(pts, func(a, b point) int { return cmp.Compare(a.x, b.x) })
		c := seriesColor(i)
		addLine(p, meanPerX(pts), c, name)
		sc, err := plotter.NewScatter(pointXYs(pts))
		if err != nil {
			panic("report: " + err.Error())
		}
		sc.Color = c
		sc.Shape = draw.CircleGlyph{}
		sc.Radius = vg.Points(2.5)
		p.Add(sc)
		if !withErrors {
			continue
		}
		bars := errorPoints{XYs: pointXYs(pts), YErrors: make(plotter.YErrors, len(pts))}
		for j, pt := range pts {
			bars.YErrors[j] = struct{ Low, High float64 }{pt.err, pt.err}
		}
		eb, err := plotter.NewYErrorBars(bars)
		if err != nil {
			panic("report: " + err.Error())
		}
		eb.Color = c
		p.Add(eb)
	}
}

func pointXYs(pts []point) plotter.XYs {
	xys := make(plotter.XYs, len(pts))
	for i, pt := range pts {
		xys[i] = plotter.XY{X: pt.x, Y: pt.y}
	}
	return xys
}

// meanPerX returns the mean y at each distinct x of points sorted by x.
func meanPerX(pts []point) plotter.XYs {
	var out plotter.XYs
	for lo := 0; lo < len(pts); {
		hi := lo
		var sum float64
		for hi < len(pts) && pts[hi].x == pts[lo].x {
			sum += pts[hi].y
			hi++
		}
		out = append(out, plotter.XY{X: pts[lo].x, Y: sum / float64(hi-lo)})
		lo = hi
	}
	return out
}

// useLogScale reports whether the values are positive and span two
// decades or more, so that they read better on a log axis.
func useLogScale(values []float64) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range values {
		if v <= 0 {
			return false
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	return len(values) > 0 && hi/lo >= 100
}

func setLogX(p *plot.Plot) {
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
}

func setLogY(p *plot.Plot) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
}

func llcVsAxisFigure(rows []SweepRow, axis string) *Figure {
	var sp samplerPoints
	var xs []float64
	for _, r := range rows {
		x, ok := r.Axes[axis].(float64)
		if !ok || r.LLCMean == nil {
			continue
		}
		se := 0.0
		if r.LLCSE != nil {
			se = *r.LLCSE
		}
		sp.add(r.Sampler, point{x: x, y: *r.LLCMean, err: 2 * se})
		xs = append(xs, x)
	}
	if distinct(xs) < 2 {
		return nil
	}
	p := newPlot("LLC against "+axis, axis, "LLC estimate")
	addSamplerSeries(p, &sp, true)
	if useLogScale(xs) {
		setLogX(p)
	} else if integral(xs) {
		setIntegerTicks(&p.X)
	}
	return &Figure{
		Name: "llc_vs_" + fileSafe(axis), Title: "LLC against " + axis, Panels: single(p),
		Caption: fmt.Sprintf("Each point is one run with ±2 standard errors; the line of each "+
			"sampler goes through the mean estimate at each value of %s, over the other axes.", axis),
	}
}

// integral reports whether every value is a whole number.
func integral(xs []float64) bool {
	for _, x := range xs {
		if x != math.Trunc(x) {
			return false
		}
	}
	return true
}

func distinct(xs []float64) int {
	seen := map[float64]bool{}
	for _, x := range xs {
		seen[x] = true
	}
	return len(seen)
}

// fileSafe replaces the characters of a name that do not belong in a file
// name with underscores.
func fileSafe(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		}
		return '_'
	}, name)
}

func essPerSecondFigure(rows []SweepRow) *Figure {
	var sp samplerPoints
	for _, r := range rows {
		if v := r.ESSPerSecond; v != nil && *v > 0 {
			sp.add(r.Sampler, point{x: float64(r.D), y: *v})
		}
	}
	if len(sp.names) == 0 {
		return nil
	}
	p := newPlot("ESS per second against model size", "parameters d", "bulk ESS per second")
	setIntegerTicks(&p.X)
	addSamplerSeries(p, &sp, false)
	if useLogScale(sp.ys()) {
		setLogY(p)
	}
	return &Figure{
		Name: "ess_per_second", Title: "ESS per second against model size", Panels: single(p),
		Caption: "The bulk effective sample size of the LLC draws per second of wall " +
			"time, per sampler; higher is better. Wall times depend on the machine and " +
			"on how many nodes ran at once.",
	}
}

func wnvFigure(rows []SweepRow) *Figure {
	var byTime, byFDE samplerPoints
	for _, r := range rows {
		if v := r.WNVTime; v != nil && *v > 0 {
			byTime.add(r.Sampler, point{x: float64(r.D), y: *v})
		}
		if v := r.WNVFDE; v != nil && *v > 0 {
			byFDE.add(r.Sampler, point{x: float64(r.D), y: *v})
		}
	}
	if len(byTime.names) == 0 && len(byFDE.names) == 0 {
		return nil
	}
	left := newPlot("WNV per second", "parameters d", "SE² × wall seconds")
	addSamplerSeries(left, &byTime, false)
	right := newPlot("WNV per gradient", "parameters d", "SE² × FDE")
	setIntegerTicks(&left.X)
	setIntegerTicks(&right.X)
	addSamplerSeries(right, &byFDE, false)
	if useLogScale(byTime.ys()) {
		setLogY(left)
	}
	if useLogScale(byFDE.ys()) {
		setLogY(right)
	}
	return &Figure{
		Name: "wnv", Title: "Work-normalized variance against model size",
		Panels: [][]*plot.Plot{{left, right}},
		Caption: "The work-normalized variance sd²/ESS × work = SE² × work, with the work " +
			"in wall seconds (left) or in full-data gradient equivalents (right); lower is " +
			"better, and it compares samplers at equal cost.",
	}
}

// comparisonFigures returns one sampler comparison per family that has two
// or more runs or a known λ, in family id order.
func comparisonFigures(rows []SweepRow) []*Figure {
	byFamily := map[string][]SweepRow{}
	var ids []string
	for _, r := range rows {
		if r.LLCMean == nil || r.FamilyID == "" {
			continue
		}
		if _, ok := byFamily[r.FamilyID]; !ok {
			ids = append(ids, r.FamilyID)
		}
		byFamily[r.FamilyID] = append(byFamily[r.FamilyID], r)
	}
	slices.Sort(ids)
	var figs []*Figure
	for _, id := range ids {
		fam := byFamily[id]
		if len(fam) < 2 && fam[0].LambdaTrue == nil {
			continue
		}
		figs = append(figs, comparisonFigure(id, fam))
	}
	return figs
}

func comparisonFigure(id string, fam []SweepRow) *Figure {
	slices.SortStableFunc(fam, func(a, b SweepRow) int { return graph.CompareAddresses(a.Address, b.Address) })
	label := fam[0].Family
	if label == "" {
		label = id
	}

	p := newPlot("Samplers on "+label, "", "LLC estimate")
	names := make([]string, len(fam))
	bars := errorPoints{XYs: make(plotter.XYs, len(fam)), YErrors: make(plotter.YErrors, len(fam))}
	var exact plotter.XYs
	for i, r := range fam {
		names[i] = strings.TrimPrefix(r.Address, "sampler.")
		se := 0.0
		if r.LLCSE != nil {
			se = *r.LLCSE
		}
		bars.XYs[i] = plotter.XY{X: float64(i), Y: *r.LLCMean}
		bars.YErrors[i] = struct{ Low, High float64 }{2 * se, 2 * se}
		if r.LambdaExact != nil {
			exact = append(exact, plotter.XY{X: float64(i), Y: *r.LambdaExact})
		}
	}

	sc, _ := plotter.NewScatter(bars.XYs)
	sc.Color, sc.Shape, sc.Radius = seriesColor(0), draw.CircleGlyph{}, vg.Points(3)
	eb, _ := plotter.NewYErrorBars(bars)
	eb.Color = seriesColor(0)
	p.Add(sc, eb)
	p.Legend.Add("estimate ±2 SE", sc)
	if len(exact) > 0 {
		ex, _ := plotter.NewScatter(exact)
		ex.Color, ex.Shape, ex.Radius = seriesColor(1), draw.CrossGlyph{}, vg.Points(4)
		p.Add(ex)
		p.Legend.Add("exact at this nβ", ex)
	}

	if lt := fam[0].LambdaTrue; lt != nil {
		addHLine(p, *lt, -0.5, float64(len(fam))-0.5, seriesColor(2), fmt.Sprintf("λ = %.4g", *lt))
	}
	// Leave a margin so that a λ line at the edge of the data stays visible.
	pad := 0.05 * (p.Y.Max - p.Y.Min)
	p.Y.Min, p.Y.Max = p.Y.Min-pad, p.Y.Max+pad
	// Keep the first and last error bars clear of the axes.
	p.X.Min, p.X.Max = -0.5, float64(len(fam))-0.5
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 8
	p.X.Tick.Label.XAlign = draw.XRight
	return &Figure{
		Name: "compare_" + id, Title: "Samplers on " + label, Panels: single(p),
		Caption: "The estimates of every sampler that ran on the same data and w* (or the " +
			"same target), with ±2 standard errors, beside the learning coefficient λ and " +
			"the exact finite-nβ value where they are known.",
	}
}

// trainingFigure plots the LLC against the training step of the erm
// checkpoint the sampler ran at, beside the training loss and, for a
// classification loss, the accuracy of the training erm, when any run has
// a checkpoint step.
func trainingFigure(s Sweep) *Figure {
	var sp samplerPoints
	training := map[string]bool{}
	for _, r := range s.Rows {
		if r.CheckpointStep == nil || r.LLCMean == nil {
			continue
		}
		se := 0.0
		if r.LLCSE != nil {
			se = *r.LLCSE
		}
		sp.add(r.Sampler, point{x: *r.CheckpointStep, y: *r.LLCMean, err: 2 * se})
		if r.TrainingID != "" {
			training[r.TrainingID] = true
		}
	}
	if len(sp.names) == 0 {
		return nil
	}

	left := newPlot("LLC along training", "training step", "LLC estimate")
	addSamplerSeries(left, &sp, true)
	setIntegerTicks(&left.X)
	// Keep the error bars at the first and last checkpoint clear of the axes.
	pad := 0.05 * (left.X.Max - left.X.Min)
	left.X.Min, left.X.Max = left.X.Min-pad, left.X.Max+pad
	panels := []*plot.Plot{left}

	ids := slices.Sorted(maps.Keys(training))
	loss := newPlot("Training loss", "training step", "L_n")
	accuracy := newPlot("Training accuracy", "training step", "accuracy")
	var losses []float64
	hasAccuracy := false
	for i, id := range ids {
		var lossXYs, accXYs plotter.XYs
		for _, pt := range s.Curves[id] {
			if pt.Loss > 0 && isFinite(pt.Loss) {
				lossXYs = append(lossXYs, plotter.XY{X: pt.Step, Y: pt.Loss})
				losses = append(losses, pt.Loss)
			}
			if isFinite(pt.Accuracy) {
				accXYs = append(accXYs, plotter.XY{X: pt.Step, Y: pt.Accuracy})
			}
		}
		label := ""
		if len(ids) > 1 {
			label = "erm run " + id[:min(len(id), 8)]
		}
		if len(lossXYs) > 0 {
			addLine(loss, lossXYs, seriesColor(i), label)
		}
		if len(accXYs) > 0 {
			addLine(accuracy, accXYs, seriesColor(i), label)
			hasAccuracy = true
		}
	}
	if len(losses) > 0 {
		if useLogScale(losses) {
			setLogY(loss)
		}
		setIntegerTicks(&loss.X)
		panels = append(panels, loss)
	}
	if hasAccuracy {
		setIntegerTicks(&accuracy.X)
		panels = append(panels, accuracy)
	}

	return &Figure{
		Name: "llc_vs_training_step", Title: "LLC along training",
		Panels: [][]*plot.Plot{panels},
		Caption: "Left: the LLC estimated at each training checkpoint, per sampler, with ±2 " +
			"standard errors. Then the training loss of the training erm (on a log scale when " +
			"it spans two decades or more) and, for a classification loss, its accuracy.",
	}
}

// CheckpointStep returns the training step a run sampled at: the
// summary's checkpoint_step, else the checkpoint of the erm family the
// sampler ran on, else nil. family may be nil.
func CheckpointStep(s *Summary, family *Family) *float64 {
	if v := finitePtr(s.CheckpointStep); v != nil {
		return v
	}
	if family != nil {
		return finitePtr(family.Checkpoint)
	}
	return nil
}
