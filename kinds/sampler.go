package kinds

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/samplers"
)

// fileTrace is the per-draw trace of a sampler node: one row per chain and
// draw with the full-data loss, the LLC draw nβ·(L_n − L_n(w*)) and the
// sampler's per-draw signals.
const fileTrace = "trace.csv"

// commonSamplerAttrs are the attributes every sampler kind accepts.
func commonSamplerAttrs() []Attr {
	return []Attr{
		{Name: "erm", Type: NodeRef, RefType: "erm", Optional: true, Doc: "the trained model to sample around, erm.NAME"},
		{Name: "target", Type: NodeRef, RefType: "target", Optional: true, Doc: "an analytic potential to sample, target.NAME (instead of erm)"},
		atLeast(Attr{Name: "chains", Type: Int, Default: 4.0, Doc: "independent chains"}, 1),
		nonNegative(Attr{Name: "gamma", Type: Number, Default: 1.0, Doc: "localization strength γ"}),
		nonNegative(Attr{Name: "weight_decay", Type: Number, Optional: true, Doc: "α of the Gaussian prior (α/2)·‖w‖² at the origin, added to −log π as it is, not scaled by nβ like the erm's weight_decay (default 0)"}),
		// beta0 defaults to 1 in checkSamplerInput, so that a beta0 given
		// next to n_beta is rejected but a defaulted one is not.
		positive(Attr{Name: "beta0", Type: Number, Optional: true, Doc: "nβ = beta0·n/log n (default 1), unless n_beta is set"}),
		positive(Attr{Name: "n_beta", Type: Number, Optional: true, Doc: "nβ itself, instead of beta0"}),
		nonNegative(Attr{Name: "init_noise", Type: Number, Default: 0.001, Doc: "standard deviation of the noise added to w* to start each chain"}),
		{Name: "bounds", Type: NumList, Optional: true, Doc: "[lower, upper]: a box with reflecting walls on every coordinate, which the chains never leave"},
		nonNegative(Attr{Name: "seed", Type: Int, Default: 0.0, Doc: "seed; it enters the key, from which every chain's random stream is drawn"}),
	}
}

func init() {
	attrs := append(commonSamplerAttrs(),
		positive(Attr{Name: "step_size", Type: Number, Default: 1e-4, Doc: "SGLD step size ε"}),
		atLeast(Attr{Name: "batch_size", Type: Int, Default: 256.0, Doc: "minibatch size b (at least n means full batch)"}, 1),
		nonNegative(Attr{Name: "warmup", Type: Int, Default: 200.0, Doc: "discarded steps before recording"}),
		atLeast(Attr{Name: "steps", Type: Int, Default: 1000.0, Doc: "recorded steps after warmup"}, 1),
		atLeast(Attr{Name: "eval_every", Type: Int, Default: 10.0, Doc: "steps between full-data loss evaluations"}, 1),
		Attr{Name: "precond", Type: String, Default: "none", Enum: []string{"none", "rmsprop", "adam"}},
	)
	register(&Kind{
		Type:    "sampler",
		Name:    "sgld",
		Version: "sgld/2",
		Attrs:   attrs,
		Check:   checkSGLD,
		Run:     runSGLD,
	})
}

type samplerParams struct {
	Chains int     `json:"chains"`
	Gamma  float64 `json:"gamma"`
	// WeightDecay is α, 0 when weight_decay is absent.
	WeightDecay float64   `json:"weight_decay"`
	Beta0       float64   `json:"beta0"`
	NBeta       *float64  `json:"n_beta"`
	InitNoise   float64   `json:"init_noise"`
	Bounds      []float64 `json:"bounds"`
}

type sgldParams struct {
	samplerParams
	StepSize  float64 `json:"step_size"`
	BatchSize int     `json:"batch_size"`
	Warmup    int     `json:"warmup"`
	Steps     int     `json:"steps"`
	EvalEvery int     `json:"eval_every"`
	Precond   string  `json:"precond"`
}

// checkSamplerInput requires exactly one of erm and target, at most one of
// beta0 and n_beta, and bounds of the form [lower, upper] when they are
// given. It fills in beta0 = 1, which the key holds even next to n_beta,
// and drops weight_decay = 0, so that the key is the one of a sampler
// without weight_decay.
func checkSamplerInput(params map[string]any) []dsl.FieldError {
	_, hasBeta0 := params["beta0"]
	if _, hasNBeta := params["n_beta"]; hasBeta0 && hasNBeta {
		return []dsl.FieldError{{Attr: "n_beta", Summary: "Conflicting arguments",
			Detail: "n_beta sets nβ itself and beta0 sets nβ = beta0·n/log n; remove one of them."}}
	}
	setDefault(params, "beta0", 1.0)
	dropValue(params, "weight_decay", 0.0)
	_, hasERM := params["erm"]
	_, hasTarget := params["target"]
	if bounds, ok := params["bounds"].([]any); ok {
		var lower, upper float64
		if len(bounds) == 2 {
			lower, _ = bounds[0].(float64)
			upper, _ = bounds[1].(float64)
		}
		if len(bounds) != 2 || !(lower < upper) {
			return []dsl.FieldError{{Attr: "bounds", Summary: "Invalid value",
				Detail: fmt.Sprintf("bounds must be [lower, upper] with lower < upper, got %v.", bounds)}}
		}
	}
	if _, hasNBeta := params["n_beta"]; hasTarget && !hasNBeta {
		return []dsl.FieldError{{Attr: "target", Summary: "Missing required argument",
			Detail: "A target has no data points, so nβ = beta0·n/log n is undefined; set n_beta, such as n_beta = 144.76 for n = 1000."}}
	}
	switch {
	case hasERM && hasTarget:
		return []dsl.FieldError{{Attr: "target", Summary: "Conflicting arguments",
			Detail: "A sampler samples either a trained model (erm) or an analytic potential (target), not both; remove one."}}
	case !hasERM && !hasTarget:
		return []dsl.FieldError{{Summary: "Missing required argument",
			Detail: "A sampler needs erm = erm.NAME (a trained model) or target = target.NAME (an analytic potential)."}}
	}
	return nil
}

func checkSGLD(params map[string]any) []dsl.FieldError {
	if errs := checkSamplerInput(params); errs != nil {
		return errs
	}
	var p sgldParams
	if err := decode(params, &p); err != nil {
		return []dsl.FieldError{{Summary: "Invalid value", Detail: err.Error()}}
	}
	if p.EvalEvery > p.Steps {
		return []dsl.FieldError{{Attr: "eval_every", Summary: "Invalid value",
			Detail: fmt.Sprintf("eval_every (%d) exceeds steps (%d), so no draw would be recorded; lower eval_every or raise steps.", p.EvalEvery, p.Steps)}}
	}
	draws := p.Steps / p.EvalEvery
	return checkTraceSize(p.Chains, draws, sgldValuesPerDraw, "steps",
		fmt.Sprintf("steps / eval_every = %d draws", draws))
}

// Values recorded per draw: step, loss, LLC and one per-draw series,
// mala_accept for SGLD and energy_error for HMC and MCLMC.
const (
	sgldValuesPerDraw = 4
	hmcValuesPerDraw  = 4
)

// nBeta returns nβ from the params and the number of data points.
func (p samplerParams) nBeta(n int) (float64, error) {
	if p.NBeta != nil {
		return *p.NBeta, nil
	}
	if n < 2 {
		return 0, fmt.Errorf("nβ = beta0·n/log n needs n ≥ 2, got n = %d; set n_beta directly", n)
	}
	return p.Beta0 * float64(n) / math.Log(float64(n)), nil
}

// samplerInput is what a sampler needs from its erm or target input.
type samplerInput struct {
	// runID is the input's run id, the family id of the sampler.
	runID string
	pot   samplers.Potential
	wStar []float64
	n, d  int
	// target is set when the input is a target node.
	target *targetResult
	// lambdaTrue is the asymptotic λ, nil when unknown, and multiplicity
	// its multiplicity m, 0 when unknown.
	lambdaTrue   *float64
	multiplicity int
}

// loadSamplerInput reads the sampler's erm or target input and restricts
// its potential to the sampler's bounds, when they are given.
func loadSamplerInput(rc *RunContext, p samplerParams) (*samplerInput, error) {
	var in *samplerInput
	if dir, ok := rc.Inputs["target"]; ok {
		res, t, err := loadTarget(dir)
		if err != nil {
			return nil, err
		}
		in = &samplerInput{runID: filepath.Base(dir), pot: t, wStar: t.WStar(), n: t.N(), d: t.Dim(), target: res}
		if lambda, ok := res.Lambda.(float64); ok {
			in.lambdaTrue = &lambda
		}
		in.multiplicity = res.Multiplicity
	} else {
		var err error
		if in, err = loadERM(rc); err != nil {
			return nil, err
		}
	}
	if len(p.Bounds) == 2 {
		lower, upper := samplers.UniformBox(in.d, p.Bounds[0], p.Bounds[1])
		boxed, err := samplers.WithBox(in.pot, lower, upper)
		if err != nil {
			return nil, fmt.Errorf("bounds: %w", err)
		}
		in.pot = boxed
	}
	return in, nil
}

// loadERM reads a trained model with its data and loss, so a sampler
// targets the same L_n that the erm minimized.
func loadERM(rc *RunContext) (*samplerInput, error) {
	dir := rc.Inputs["erm"]
	trained, err := loadTrained(dir, rc.RunDir)
	if err != nil {
		return nil, err
	}
	res := trained.result
	in := &samplerInput{runID: filepath.Base(dir), pot: trained.pot, wStar: trained.wStar,
		n: trained.pot.N(), d: len(trained.wStar)}
	if lambda, ok := res.LambdaTrue.(float64); ok {
		in.lambdaTrue = &lambda
	}
	if m, ok := res.LambdaMultiplicity.(float64); ok {
		in.multiplicity = int(m)
	}
	return in, nil
}

func runSGLD(ctx context.Context, rc *RunContext) error {
	var p sgldParams
	if err := decode(rc.Params, &p); err != nil {
		return err
	}
	in, err := loadSamplerInput(rc, p.samplerParams)
	if err != nil {
		return err
	}
	nBeta, err := p.nBeta(in.n)
	if err != nil {
		return err
	}
	total := float64(p.Chains * (p.Warmup + p.Steps))
	cfg := samplers.SGLDConfig{
		Common: samplers.Common{
			Chains: p.Chains, NBeta: nBeta, Gamma: p.Gamma, WeightDecay: p.WeightDecay,
			InitNoise: p.InitNoise, Seed: rc.Key, Parallel: rc.Threads,
			Progress: chainProgress(rc, p.Chains, total),
		},
		StepSize: p.StepSize, BatchSize: p.BatchSize, Warmup: p.Warmup, Steps: p.Steps,
		EvalEvery: p.EvalEvery, Precond: p.Precond,
	}
	fmt.Fprintf(rc.Log, "sgld: d = %d, n = %d, nβ = %g, γ = %g, ε = %g, %d chains × %d steps after %d warmup\n",
		in.d, in.n, nBeta, p.Gamma, p.StepSize, p.Chains, p.Steps, p.Warmup)
	logWeightDecay(rc, p.samplerParams)
	cfg.Stop = rc.Stop
	var resume samplers.SGLDCheckpoint
	resumed, err := loadCheckpoint(rc, "sgld", &resume)
	if err != nil {
		return err
	}
	if resumed {
		cfg.Resume = &resume
	}
	run, err := samplers.SGLD(ctx, in.pot, in.wStar, cfg)
	var stopped *samplers.Interrupted
	if errors.As(err, &stopped) {
		if err := saveCheckpoint(rc, "sgld", stopped.Checkpoint); err != nil {
			return err
		}
		return ErrCheckpointed
	}
	if err != nil {
		return err
	}
	eps := 0.0
	if p.Precond == "none" {
		eps = p.StepSize
	}
	out := samplerOutput{kind: "sgld", in: in, sgldEps: eps, bounds: p.Bounds,
		weightDecay: p.WeightDecay}
	return writeSamplerOutputs(rc, out, run)
}

// logWeightDecay logs α when it is set. Runs without weight decay keep
// their log lines.
func logWeightDecay(rc *RunContext, p samplerParams) {
	if p.WeightDecay > 0 {
		fmt.Fprintf(rc.Log, "weight decay α = %g\n", p.WeightDecay)
	}
}

// chainProgress turns per-chain step counts into node progress.
func chainProgress(rc *RunContext, chains int, total float64) func(chain, done, total int) {
	if rc.Progress == nil || total == 0 {
		return nil
	}
	done := make([]int64, chains)
	var mu sync.Mutex
	return func(chain, d, _ int) {
		mu.Lock()
		done[chain] = int64(d)
		var sum int64
		for _, v := range done {
			sum += v
		}
		mu.Unlock()
		rc.Progress(float64(sum)/total, fmt.Sprintf("%d/%d steps", sum, int64(total)))
	}
}

// samplerResult is a sampler node's result.json. Every number in it is
// deterministic: the same node gives the same bytes on every run. Numbers
// that depend on time (ESS per second, work-normalized variance by time)
// are not stored, because wall time is provenance. They follow from
// provenance.json's wall_seconds as ess_bulk/wall_seconds and
// llc_se²·wall_seconds (samplers.NewEfficiency).
type samplerResult struct {
	Kind     string  `json:"kind"`
	FamilyID string  `json:"family_id"`
	D        int     `json:"d"`
	N        int     `json:"n"`
	NBeta    float64 `json:"n_beta"`
	Gamma    float64 `json:"gamma"`
	// WeightDecay is α, omitted at 0 so that results without it keep
	// their bytes.
	WeightDecay float64 `json:"weight_decay,omitempty"`
	Chains      int     `json:"chains"`
	Draws       int     `json:"draws"`
	LossStar    any     `json:"loss_star"`
	LLCMean     any     `json:"llc_mean"`
	LLCSE       any     `json:"llc_se"`
	ChainMeans  []any   `json:"chain_means"`
	ESSBulk     any     `json:"ess_bulk"`
	ESSTail     any     `json:"ess_tail"`
	RHat        any     `json:"rhat"`
	// ESSMean is the ESS of the plain mean, and LLCSEMean = sd/√ESSMean
	// the more cautious standard error that goes with it.
	ESSMean   any `json:"ess_mean"`
	LLCSEMean any `json:"llc_se_mean"`
	// LambdaTrue is the asymptotic λ of the input, when known, with its
	// multiplicity m (null when unknown), and LambdaExact the exact value
	// at this nβ, γ and α, known for quadratic, radial and monomial targets.
	LambdaTrue         any           `json:"lambda_true"`
	LambdaMultiplicity any           `json:"lambda_multiplicity"`
	LambdaExact        any           `json:"lambda_exact"`
	Work               samplers.Work `json:"work"`
	// ESSPerFDE and WNVFDE divide by every gradient, warmup and tuning
	// included. The _sampling variants divide by the gradients of the
	// recorded steps only.
	ESSPerFDE         any `json:"ess_per_fde"`
	WNVFDE            any `json:"wnv_fde"`
	ESSPerFDESampling any `json:"ess_per_fde_sampling"`
	WNVFDESampling    any `json:"wnv_fde_sampling"`
	// Bounds is the sampler's box [lower, upper], when it has one.
	Bounds     []float64        `json:"bounds,omitempty"`
	Stats      map[string]any   `json:"stats"`
	ChainStats []map[string]any `json:"chain_stats"`
	// Warnings lists the health checks the run failed, in words.
	Warnings []string `json:"warnings"`
}

// samplerOutput is the input of writeSamplerOutputs besides the run.
type samplerOutput struct {
	kind string
	in   *samplerInput
	// sgldEps is the step size of an unpreconditioned SGLD run, whose
	// exact value on a quadratic target includes the step-size bias, and
	// 0 otherwise.
	sgldEps float64
	bounds  []float64
	// energyVar is MCLMC's tuning target for E[ΔE²]/d, 0 for the others.
	energyVar float64
	// weightDecay is the sampler's α.
	weightDecay float64
}

// writeSamplerOutputs writes trace.csv and result.json.
func writeSamplerOutputs(rc *RunContext, out samplerOutput, run *samplers.Run) error {
	est := samplers.Summarize(run)
	if err := writeFile(rc.Dir, fileTrace, formatTrace(run)); err != nil {
		return err
	}

	if math.IsNaN(est.LLCMean) || math.IsInf(est.LLCMean, 0) {
		return fmt.Errorf("the LLC estimate is %v; the chains produced no finite draws", est.LLCMean)
	}
	fmt.Fprintf(rc.Log, "%s: llc = %.4g ± %.2g (ESS bulk %.0f, R̂ %.3f, %.4g FDE)\n", out.kind,
		est.LLCMean, est.LLCSE, est.ESSBulk, est.RHat, run.Work.GradFDE)

	in := out.in
	lambdaTrue, lambdaExact := any(nil), any(nil)
	if in.lambdaTrue != nil {
		lambdaTrue = finite(*in.lambdaTrue)
	}
	if in.target != nil {
		if v, ok := exactLLC(in.target.Kind, in.target.Params, run.NBeta, run.Gamma, out.weightDecay, out.sgldEps); ok && out.bounds == nil {
			lambdaExact = finite(v)
		}
	}
	res := samplerResult{
		LambdaTrue: lambdaTrue, LambdaExact: lambdaExact,
		Kind: out.kind, FamilyID: in.runID, D: in.d, N: in.n, NBeta: run.NBeta, Gamma: run.Gamma,
		WeightDecay: out.weightDecay,
		Chains:      len(run.Chains), Draws: est.Draws, LossStar: finite(run.LossStar),
		LLCMean: finite(est.LLCMean), LLCSE: finite(est.LLCSE), ChainMeans: finiteSlice(est.ChainMeans),
		ESSBulk: finite(est.ESSBulk), ESSTail: finite(est.ESSTail), RHat: finite(est.RHat),
		ESSMean: finite(est.ESSMean), LLCSEMean: finite(est.LLCSE * math.Sqrt(est.ESSBulk/est.ESSMean)),
		Work: run.Work, Bounds: out.bounds,
		Stats: finiteMap(run.Stats), ChainStats: make([]map[string]any, len(run.Chains)),
		Warnings: healthWarnings(out, est, run),
	}

	total := samplers.NewEfficiency(est, run.Work.GradFDE)
	sampling := samplers.NewEfficiency(est, run.Work.GradFDESampling)
	res.ESSPerFDE, res.WNVFDE = finite(total.ESSPerWork), finite(total.WNV)
	res.ESSPerFDESampling, res.WNVFDESampling = finite(sampling.ESSPerWork), finite(sampling.WNV)
	if in.multiplicity > 0 {
		res.LambdaMultiplicity = in.multiplicity
	}
	for c, ch := range run.Chains {
		res.ChainStats[c] = finiteMap(ch.Stats)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(rc.Log, "warning: %s\n", w)
	}
	return writeJSON(rc.Dir, "result.json", res)
}

// Thresholds of the health checks. R̂ ≤ 1.01 and a bulk ESS of at least
// 100 per chain are the recommendations of Vehtari et al. (2021).
const (
	healthMaxRHat         = 1.01
	healthMinESSPerChain  = 100
	healthEnergyVarFactor = 2
)

// healthWarnings returns the health checks that a run fails: chains that
// disagree, too few effective draws, HMC divergences after warmup, an
// MCLMC energy error far above its target, and a negative estimate.
func healthWarnings(out samplerOutput, est samplers.Estimate, run *samplers.Run) []string {
	warnings := []string{}
	if est.RHat > healthMaxRHat {
		warnings = append(warnings, fmt.Sprintf("R-hat %.3f exceeds %g: the chains disagree, so "+
			"run more draws or more chains", est.RHat, healthMaxRHat))
	}
	if minESS := float64(healthMinESSPerChain * len(run.Chains)); est.ESSBulk < minESS {
		warnings = append(warnings, fmt.Sprintf("bulk ESS %.0f is below %.0f (100 per chain): "+
			"the standard error is unreliable, so run more draws", est.ESSBulk, minESS))
	}
	if div := run.Stats["divergences"]; div > 0 {
		warnings = append(warnings, fmt.Sprintf("%.0f divergent transitions after warmup: the "+
			"estimate may be biased, so raise target_accept or lower step_size", div))
	}
	if measured := run.Stats["energy_var"]; out.energyVar > 0 && measured > healthEnergyVarFactor*out.energyVar {
		// The tuner weighs the last ~150 steps of a stage, so on singular
		// posteriors the rare steps through steep regions, which carry
		// most of the mean, are often missing from it. A smaller
		// energy_var is tuned the same way, so the warning names the
		// check that tests whether the estimate depends on ε: a step
		// size given by hand.
		eps, l := run.Stats["step_size"], run.Stats["L"]
		ratio := strconv.FormatFloat(measured/out.energyVar, 'f', 1, 64)
		if measured/out.energyVar >= 10 {
			ratio = strconv.FormatFloat(measured/out.energyVar, 'f', 0, 64)
		}
		warnings = append(warnings, fmt.Sprintf("energy error per dimension E[ΔE²]/d = %.3g is "+
			"%s times the target %g, and the largest 1 %% of steps carry %.0f %% of it: check "+
			"that the estimate stays within its standard error with step_size = %.3g (half the "+
			"tuned %.3g) and L = %.3g", measured, ratio, out.energyVar,
			100*energyTailShare(run), eps/2, eps, l))
	}
	if est.LLCMean < 0 {
		warnings = append(warnings, "the LLC estimate is negative: w* is not a local minimum, "+
			"so train longer or lower the step size")
	}
	return warnings
}

// energyTailShare returns the fraction of Σ ΔE² over all chains' draws
// that the largest 1 % of the squared energy errors carry.
func energyTailShare(run *samplers.Run) float64 {
	var squares []float64
	for _, ch := range run.Chains {
		for _, e := range ch.Series["energy_error"] {
			squares = append(squares, e*e)
		}
	}
	if len(squares) == 0 {
		return 0
	}
	slices.Sort(squares)
	top := (len(squares) + 99) / 100
	var total, tail float64
	for i, v := range squares {
		total += v
		if i >= len(squares)-top {
			tail += v
		}
	}
	if !(total > 0) {
		return 0
	}
	return tail / total
}

// formatTrace returns trace.csv: a header, then one row per chain and
// draw with the columns chain, draw, step, loss, llc and the per-draw
// series in name order. Numbers are written in the shortest form that
// parses back to the same float64, so ReadTrace restores every bit.
func formatTrace(run *samplers.Run) []byte {
	var series []string
	if len(run.Chains) > 0 {
		for name := range run.Chains[0].Series {
			series = append(series, name)
		}
		sort.Strings(series)
	}
	var b strings.Builder
	b.WriteString("chain,draw,step,loss,llc")
	for _, name := range series {
		b.WriteString("," + name)
	}
	b.WriteString("\n")
	for c, ch := range run.Chains {
		for i, loss := range ch.Loss {
			llc := run.NBeta * (loss - run.LossStar)
			b.WriteString(strconv.Itoa(c) + "," + strconv.Itoa(i) + "," + strconv.Itoa(ch.Step[i]) + "," +
				fmtFloat(loss) + "," + fmtFloat(llc))
			for _, name := range series {
				b.WriteString("," + fmtFloat(ch.Series[name][i]))
			}
			b.WriteString("\n")
		}
	}
	return []byte(b.String())
}

// Trace is a sampler node's trace.csv read back.
type Trace struct {
	// Series names the per-draw signal columns after llc, in file order.
	Series []string
	// Chains holds, per chain, the steps, losses and series of its draws
	// (Stats is nil), and LLC the matching λ_t = nβ·(L_t − L_n(w*)).
	Chains []samplers.ChainTrace
	LLC    [][]float64
}

// ReadTrace reads a sampler node's trace.csv. Rows must come chain by
// chain with draws numbered from 0, as the sampler kinds write them.
func ReadTrace(path string) (*Trace, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read trace: %w", err)
	}
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("parse trace %s: %w", path, err)
	}
	fixed := []string{"chain", "draw", "step", "loss", "llc"}
	if len(records) == 0 || len(records[0]) < len(fixed) || !slices.Equal(records[0][:len(fixed)], fixed) {
		return nil, fmt.Errorf("trace %s: header must start with %s", path, strings.Join(fixed, ","))
	}
	tr := &Trace{Series: records[0][len(fixed):]}
	for row, rec := range records[1:] {
		if err := tr.appendRow(rec); err != nil {
			return nil, fmt.Errorf("trace %s line %d: %w", path, row+2, err)
		}
	}
	return tr, nil
}

// appendRow parses one trace row and appends it to its chain.
func (tr *Trace) appendRow(rec []string) error {
	chain, errChain := strconv.Atoi(rec[0])
	draw, errDraw := strconv.Atoi(rec[1])
	step, errStep := strconv.Atoi(rec[2])
	if err := errors.Join(errChain, errDraw, errStep); err != nil {
		return err
	}
	if chain == len(tr.Chains) && draw == 0 {
		ch := samplers.ChainTrace{Series: map[string][]float64{}}
		for _, name := range tr.Series {
			ch.Series[name] = nil
		}
		tr.Chains = append(tr.Chains, ch)
		tr.LLC = append(tr.LLC, nil)
	}
	if chain != len(tr.Chains)-1 || draw != len(tr.Chains[chain].Loss) {
		return fmt.Errorf("row of chain %d draw %d is out of order", chain, draw)
	}

	values := make([]float64, len(rec)-3)
	for i, field := range rec[3:] {
		v, err := strconv.ParseFloat(field, 64)
		if err != nil {
			return err
		}
		values[i] = v
	}

	ch := &tr.Chains[chain]
	ch.Step = append(ch.Step, step)
	ch.Loss = append(ch.Loss, values[0])
	tr.LLC[chain] = append(tr.LLC[chain], values[1])
	for i, name := range tr.Series {
		ch.Series[name] = append(ch.Series[name], values[2+i])
	}
	return nil
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
