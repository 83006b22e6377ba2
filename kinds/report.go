package kinds

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/llcflow/llcflow/report"
	"github.com/llcflow/llcflow/samplers"
)

// Plot nodes draw the figures of finished sampler runs into their own run
// directories and never write to the runs they read. They are not HCL
// blocks. Instead `llcflow report` adds one "sampler" plot node per sampler
// run (input role "sampler") and one "sweep" plot node whose input roles
// are the addresses of the sampler runs it draws. Each writes NAME.png and
// NAME.svg per figure and a result.json that lists them.
func init() {
	register(&Kind{
		Type: "plot", Name: "sampler", Version: "plot_sampler/2",
		Attrs: []Attr{
			{Name: "label", Type: String, Doc: "the name of the run in the plot titles, its address"},
		},
		Run: runPlotSampler,
	})
	register(&Kind{
		Type: "plot", Name: "sweep", Version: "plot_sweep/2",
		// Params: axes, the sweep axis names in sweep-block order, and runs,
		// a list of sweepRun objects. No HCL block normalizes them.
		Run: runPlotSweep,
	})
}

// plotResult is a plot node's result.json.
type plotResult struct {
	Kind    string       `json:"kind"`
	Figures []PlotFigure `json:"figures"`
}

// PlotFigure is one figure of a plot node.
type PlotFigure struct {
	Name    string `json:"name"`
	Title   string `json:"title"`
	Caption string `json:"caption"`
	// PNG and SVG are file names in the plot node's run directory.
	PNG string `json:"png"`
	SVG string `json:"svg"`
}

func runPlotSampler(ctx context.Context, rc *RunContext) error {
	var p struct {
		Label string `json:"label"`
	}
	if err := decode(rc.Params, &p); err != nil {
		return err
	}
	dir, ok := rc.Inputs["sampler"]
	if !ok {
		return errors.New("a sampler plot node needs an input with role \"sampler\"")
	}
	sum, err := report.ReadSummary(filepath.Join(dir, "result.json"))
	if err != nil {
		return err
	}
	trace, err := report.ReadTrace(filepath.Join(dir, fileTrace))
	if err != nil {
		return err
	}
	figs, err := report.RunFigures(trace, sum, p.Label)
	if err != nil {
		return err
	}
	return writeFigures(ctx, rc, "sampler", figs)
}

// Efficiency is samplers.NewEfficiency in the form report.Derive takes,
// so that the report's ESS per second and work-normalized variances come
// from the same formula as the ess_per_fde and wnv_fde of result.json.
func Efficiency(essBulk, llcSE, work float64) (essPerWork, wnv float64) {
	e := samplers.NewEfficiency(samplers.Estimate{ESSBulk: essBulk, LLCSE: llcSE}, work)
	return e.ESSPerWork, e.WNV
}

// sweepRun is one entry of a sweep plot node's runs parameter.
type sweepRun struct {
	// Address is the sampler node's address, which is also its input role.
	Address string         `json:"address"`
	Sampler string         `json:"sampler"`
	Family  string         `json:"family"`
	Axes    map[string]any `json:"axes"`
	// WallSeconds comes from the run's provenance, which is not part of
	// any key. It is a parameter so that a rerun with new timings redraws.
	WallSeconds *float64 `json:"wall_seconds"`
}

func runPlotSweep(ctx context.Context, rc *RunContext) error {
	var p struct {
		Axes []string   `json:"axes"`
		Runs []sweepRun `json:"runs"`
	}
	if err := decode(rc.Params, &p); err != nil {
		return err
	}
	sweep := report.Sweep{Axes: p.Axes, Curves: map[string][]report.CurvePoint{}}
	for _, run := range p.Runs {
		dir, ok := rc.Inputs[run.Address]
		if !ok {
			return fmt.Errorf("the sweep plot lists run %s but has no input with that role", run.Address)
		}
		sum, err := report.ReadSummary(filepath.Join(dir, "result.json"))
		if err != nil {
			return err
		}
		m := report.Derive(sum, run.WallSeconds, Efficiency)
		family, err := readFamily(rc, sum.FamilyID)
		if err != nil {
			return err
		}
		trainingID := sum.FamilyID
		if family != nil && family.TrainedRunID != "" {
			trainingID = family.TrainedRunID
		}
		sweep.Rows = append(sweep.Rows, report.SweepRow{
			Address: run.Address, Sampler: run.Sampler, Kind: sum.Kind,
			FamilyID: sum.FamilyID, Family: run.Family, Axes: run.Axes, D: sum.D,
			LLCMean: sum.LLCMean, LLCSE: sum.LLCSE,
			LambdaTrue: sum.LambdaTrue, LambdaExact: sum.LambdaExact,
			ESSPerSecond: m.ESSPerSecond, WNVTime: m.WNVTime, WNVFDE: m.WNVFDE,
			CheckpointStep: report.CheckpointStep(sum, family), TrainingID: trainingID,
		})
		if err := addCurve(rc, sweep.Curves, trainingID); err != nil {
			return err
		}
	}
	return writeFigures(ctx, rc, "sweep", report.SweepFigures(sweep))
}

// readFamily reads the result.json of the erm or target that a sampler
// ran on, or returns nil when the run is not in the store.
func readFamily(rc *RunContext, familyID string) (*report.Family, error) {
	if familyID == "" || rc.RunDir == nil {
		return nil, nil
	}
	var family report.Family
	err := readJSON(filepath.Join(rc.RunDir(familyID), "result.json"), &family)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the result of family run %s: %w", familyID, err)
	}
	return &family, nil
}

// addCurve reads the training curve of an erm once. Target
// families have no curve.
func addCurve(rc *RunContext, curves map[string][]report.CurvePoint, ermID string) error {
	if _, done := curves[ermID]; done || ermID == "" || rc.RunDir == nil {
		return nil
	}
	curve, err := report.ReadCurve(filepath.Join(rc.RunDir(ermID), fileCurve))
	if errors.Is(err, fs.ErrNotExist) {
		curves[ermID] = nil
		return nil
	}
	if err != nil {
		return err
	}
	curves[ermID] = curve
	return nil
}

// writeFigures saves every figure into rc.Dir and writes result.json.
func writeFigures(ctx context.Context, rc *RunContext, kind string, figs []*report.Figure) error {
	res := plotResult{Kind: kind, Figures: []PlotFigure{}}
	for i, f := range figs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := f.Save(rc.Dir); err != nil {
			return err
		}
		png, svg := f.Files()
		res.Figures = append(res.Figures, PlotFigure{Name: f.Name, Title: f.Title, Caption: f.Caption, PNG: png, SVG: svg})
		if rc.Progress != nil {
			rc.Progress(float64(i+1)/float64(len(figs)), "drew "+png)
		}
	}
	fmt.Fprintf(rc.Log, "plot: drew %d figures\n", len(figs))
	return writeJSON(rc.Dir, "result.json", res)
}

// ReadPlotResult reads a plot node's result.json from its run directory
// and checks that every figure file is there.
func ReadPlotResult(dir string) (kind string, figures []PlotFigure, err error) {
	var res plotResult
	if err := readJSON(filepath.Join(dir, "result.json"), &res); err != nil {
		return "", nil, err
	}
	for _, f := range res.Figures {
		for _, name := range []string{f.PNG, f.SVG} {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				return "", nil, fmt.Errorf("plot run %s lists %s: %w", filepath.Base(dir), name, err)
			}
		}
	}
	return res.Kind, res.Figures, nil
}
