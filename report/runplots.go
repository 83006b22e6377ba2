package report

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/llcflow/llcflow/diagnostics"
)

// Settings of the per-run plots.
const (
	// maxAutocorrLag is the largest lag of the autocorrelation plot.
	maxAutocorrLag = 100
	// maxRankBins is the number of rank bins when every bin can expect at
	// least minPerRankBin draws of each chain.
	maxRankBins   = 20
	minPerRankBin = 5
	// acceptWindows is the number of windows that the moving average of
	// the MALA acceptance spans across a chain.
	acceptWindows = 20
)

// RunFigures returns the figures of one sampler run. They are the running
// LLC per chain with the pooled estimate and a ±2 SE band, the loss trace,
// and the autocorrelation and rank plot of the LLC draws. The energy error
// (HMC, MCLMC) and the MALA acceptance (SGLD) follow when the trace records
// them. label names the run in the titles, usually its address.
func RunFigures(t *Trace, s *Summary, label string) ([]*Figure, error) {
	if len(t.Chains) == 0 || len(t.Chains[0].LLC) == 0 {
		return nil, fmt.Errorf("the trace of %s has no draws, so there is nothing to plot", label)
	}
	figs := []*Figure{
		runningLLCFigure(t, s, label),
		lossFigure(t, s, label),
		autocorrFigure(t, label),
		rankFigure(t, label),
	}
	if slices.Contains(t.Series, "energy_error") {
		figs = append(figs, energyErrorFigure(t, label))
	}
	if slices.Contains(t.Series, "mala_accept") {
		figs = append(figs, acceptanceFigure(t, label))
	}
	return figs, nil
}

func single(p *plot.Plot) [][]*plot.Plot { return [][]*plot.Plot{{p}} }

func chainName(c int) string { return fmt.Sprintf("chain %d", c) }

// stepRange returns the first and last recorded step over the chains.
func stepRange(t *Trace) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, ch := range t.Chains {
		if len(ch.Step) > 0 {
			lo = min(lo, ch.Step[0])
			hi = max(hi, ch.Step[len(ch.Step)-1])
		}
	}
	return lo, hi
}

// finiteXYs pairs xs and ys, leaving out points that are not finite.
func finiteXYs(xs, ys []float64) plotter.XYs {
	out := make(plotter.XYs, 0, len(ys))
	for i, y := range ys {
		if isFinite(xs[i]) && isFinite(y) {
			out = append(out, plotter.XY{X: xs[i], Y: y})
		}
	}
	return out
}

func isFinite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func runningLLCFigure(t *Trace, s *Summary, label string) *Figure {
	p := newPlot(label+": running LLC", "step after warmup", "running mean of λ draws")
	setIntegerTicks(&p.X)
	x0, x1 := stepRange(t)
	if m, se := finitePtr(s.LLCMean), finitePtr(s.LLCSE); m != nil && se != nil && x1 > x0 {
		band, err := plotter.NewPolygon(plotter.XYs{
			{X: x0, Y: *m - 2**se}, {X: x1, Y: *m - 2**se}, {X: x1, Y: *m + 2**se}, {X: x0, Y: *m + 2**se},
		})
		if err == nil {
			band.Color = translucent(seriesColor(6), 60)
			band.LineStyle.Width = 0
			p.Add(band)
			p.Legend.Add("±2 SE", band)
		}
	}
	for c, ch := range t.Chains {
		// The running mean after draw k of chain c is λ̄_c(k) = (1/k) Σ_{i≤k} λ_{c,i}.
		running := make([]float64, len(ch.LLC))
		var sum float64
		for k, v := range ch.LLC {
			sum += v
			running[k] = sum / float64(k+1)
		}
		addLine(p, finiteXYs(ch.Step, running), seriesColor(c), chainName(c))
	}
	if m := finitePtr(s.LLCMean); m != nil && x1 > x0 {
		addHLine(p, *m, x0, x1, seriesColor(6), fmt.Sprintf("pooled %.4g", *m))
	}
	return &Figure{
		Name: "running_llc", Title: "Running LLC per chain", Panels: single(p),
		Caption: "The running mean of the LLC draws λ = nβ·(L_n − L_n(w*)) per chain, " +
			"with the pooled estimate and a band of ±2 standard errors. Chains that " +
			"settle at different levels have not mixed.",
	}
}

func lossFigure(t *Trace, s *Summary, label string) *Figure {
	p := newPlot(label+": loss", "step after warmup", "L_n")
	setIntegerTicks(&p.X)
	for c, ch := range t.Chains {
		addLine(p, finiteXYs(ch.Step, ch.Loss), seriesColor(c), chainName(c))
	}
	x0, x1 := stepRange(t)
	if ls := finitePtr(s.LossStar); ls != nil && x1 > x0 {
		addHLine(p, *ls, x0, x1, seriesColor(6), "L_n(w*)")
	}
	return &Figure{
		Name: "loss", Title: "Loss trace per chain", Panels: single(p),
		Caption: "The full-data loss L_n at every recorded draw, with L_n(w*) dashed. " +
			"Draws below L_n(w*) mean that w* is not a local minimum.",
	}
}

func autocorrFigure(t *Trace, label string) *Figure {
	p := newPlot(label+": autocorrelation", "lag (draws)", "autocorrelation of λ")
	setIntegerTicks(&p.X)
	maxLag := 0
	for c, ch := range t.Chains {
		rho := diagnostics.Autocorrelation(ch.LLC, maxAutocorrLag)
		lags := make([]float64, len(rho))
		for i := range lags {
			lags[i] = float64(i)
		}
		maxLag = max(maxLag, len(rho)-1)
		addLine(p, finiteXYs(lags, rho), seriesColor(c), chainName(c))
	}
	if maxLag > 0 {
		addHLine(p, 0, 0, float64(maxLag), seriesColor(6), "")
	}
	return &Figure{
		Name: "autocorr", Title: "Autocorrelation of the LLC draws", Panels: single(p),
		Caption: "The autocorrelation of each chain's LLC draws against the lag. " +
			"Slow decay means few effective draws.",
	}
}

func rankFigure(t *Trace, label string) *Figure {
	chains := t.LLCChains()
	draws := len(chains[0])
	bins := max(1, min(maxRankBins, draws/minPerRankBin))
	ranks := pooledRanks(chains)
	total := float64(draws * len(chains))
	p := newPlot(label+": rank plot", "rank of λ among all draws (bins)", "draws per bin")
	for c, rs := range ranks {
		counts := make([]float64, bins)
		for _, r := range rs {
			// Rank r in [1, S] falls into bin ⌊(r − 1)·B/S⌋.
			b := min(bins-1, int((r-1)*float64(bins)/total))
			counts[b]++
		}
		xys := make(plotter.XYs, 0, bins+1)
		for b, n := range counts {
			xys = append(xys, plotter.XY{X: float64(b), Y: n})
		}
		xys = append(xys, plotter.XY{X: float64(bins), Y: counts[bins-1]})
		l := addLine(p, xys, seriesColor(c), chainName(c))
		l.StepStyle = plotter.PostStep
	}
	addHLine(p, float64(draws)/float64(bins), 0, float64(bins), seriesColor(6), "uniform")
	p.Y.Min = 0
	return &Figure{
		Name: "rank", Title: "Rank plot", Panels: single(p),
		Caption: fmt.Sprintf("Histograms of the ranks of each chain's LLC draws among all "+
			"draws, in %d bins. Mixed chains give flat histograms near the dashed "+
			"uniform count.", bins),
	}
}

// pooledRanks returns the rank of every draw among all draws of all chains,
// from 1 to S, with tied draws given their average rank.
func pooledRanks(chains [][]float64) [][]float64 {
	type draw struct {
		v    float64
		c, i int
	}
	var all []draw
	for c, ch := range chains {
		for i, v := range ch {
			all = append(all, draw{v, c, i})
		}
	}
	slices.SortStableFunc(all, func(a, b draw) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	out := make([][]float64, len(chains))
	for c, ch := range chains {
		out[c] = make([]float64, len(ch))
	}
	for lo := 0; lo < len(all); {
		hi := lo + 1
		for hi < len(all) && all[hi].v == all[lo].v {
			hi++
		}
		// Draws lo..hi−1 tie and share the mean of ranks lo+1..hi.
		rank := float64(lo+1+hi) / 2
		for _, d := range all[lo:hi] {
			out[d.c][d.i] = rank
		}
		lo = hi
	}
	return out
}

func energyErrorFigure(t *Trace, label string) *Figure {
	p := newPlot(label+": energy error", "step after warmup", "energy error ΔH")
	setIntegerTicks(&p.X)
	for c, ch := range t.Chains {
		l := addLine(p, finiteXYs(ch.Step, ch.Series["energy_error"]), seriesColor(c), chainName(c))
		l.Width = vg.Points(0.5)
	}
	return &Figure{
		Name: "energy_error", Title: "Energy error per draw", Panels: single(p),
		Caption: "The change of the Hamiltonian over each transition. Large or " +
			"drifting errors mean the step size is too large.",
	}
}

func acceptanceFigure(t *Trace, label string) *Figure {
	window := 1
	for _, ch := range t.Chains {
		window = max(window, len(ch.Step)/acceptWindows)
	}
	p := newPlot(label+": MALA acceptance", "step after warmup",
		fmt.Sprintf("MALA acceptance (moving mean of %d draws)", window))
	setIntegerTicks(&p.X)
	for c, ch := range t.Chains {
		acc := ch.Series["mala_accept"]
		// The trailing mean at draw k averages draws max(0, k−w+1)..k.
		smooth := make([]float64, len(acc))
		var sum float64
		for k, a := range acc {
			sum += a
			if k >= window {
				sum -= acc[k-window]
			}
			smooth[k] = sum / float64(min(k+1, window))
		}
		addLine(p, finiteXYs(ch.Step, smooth), seriesColor(c), chainName(c))
	}
	x0, x1 := stepRange(t)
	if x1 > x0 {
		addHLine(p, SGLDTargetAccept, x0, x1, seriesColor(6), fmt.Sprintf("%.1f", SGLDTargetAccept))
	}
	return &Figure{
		Name: "mala_accept", Title: "MALA acceptance over time", Panels: single(p),
		Caption: fmt.Sprintf("The Metropolis-adjusted Langevin acceptance that each SGLD step "+
			"would have had, as a moving mean. Values far from %.1f suggest another "+
			"step size.", SGLDTargetAccept),
	}
}
