package kinds

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/models"
	"github.com/llcflow/llcflow/npy"
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
		positive(Attr{Name: "beta0", Type: Number, Default: 1.0, Doc: "nβ = beta0·n/log n unless n_beta is set"}),
		positive(Attr{Name: "n_beta", Type: Number, Optional: true, Doc: "nβ, overriding beta0"}),
		nonNegative(Attr{Name: "init_noise", Type: Number, Default: 0.001, Doc: "standard deviation of the noise added to w* to start each chain"}),
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
		Version: "sgld/1",
		Attrs:   attrs,
		Check:   checkSGLD,
		Run:     runSGLD,
	})
}

type samplerParams struct {
	Chains    int      `json:"chains"`
	Gamma     float64  `json:"gamma"`
	Beta0     float64  `json:"beta0"`
	NBeta     *float64 `json:"n_beta"`
	InitNoise float64  `json:"init_noise"`
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

// checkSamplerInput requires exactly one of erm and target.
func checkSamplerInput(params map[string]any) []dsl.FieldError {
	_, hasERM := params["erm"]
	_, hasTarget := params["target"]
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
	return nil
}

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
}

// loadSamplerInput reads the sampler's erm or target input.
func loadSamplerInput(rc *RunContext) (*samplerInput, error) {
	if dir, ok := rc.Inputs["target"]; ok {
		res, t, err := loadTarget(dir)
		if err != nil {
			return nil, err
		}
		return &samplerInput{runID: filepath.Base(dir), pot: t, wStar: t.WStar(), n: t.N(), d: t.Dim(), target: res}, nil
	}
	return loadERM(rc)
}

func loadERM(rc *RunContext) (*samplerInput, error) {
	dir := rc.Inputs["erm"]
	var res ermResult
	if err := readJSON(filepath.Join(dir, "result.json"), &res); err != nil {
		return nil, fmt.Errorf("read erm result: %w", err)
	}
	x, y, n, inDim, outDim, err := readDataset(rc.RunDir(res.DatasetRunID))
	if err != nil {
		return nil, err
	}
	mlp, err := newModel(res.Model, inDim, outDim)
	if err != nil {
		return nil, err
	}
	_, wStar, err := npy.Read(filepath.Join(dir, fileWeights))
	if err != nil {
		return nil, err
	}
	if len(wStar) != mlp.NumParams() {
		return nil, fmt.Errorf("erm weights have %d values, the model needs %d", len(wStar), mlp.NumParams())
	}
	reg, err := models.NewRegression(mlp, x, y, n, "mse")
	if err != nil {
		return nil, err
	}
	return &samplerInput{runID: filepath.Base(dir), pot: reg, wStar: wStar, n: n, d: len(wStar)}, nil
}

func runSGLD(ctx context.Context, rc *RunContext) error {
	var p sgldParams
	if err := decode(rc.Params, &p); err != nil {
		return err
	}
	in, err := loadSamplerInput(rc)
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
			Chains: p.Chains, NBeta: nBeta, Gamma: p.Gamma, InitNoise: p.InitNoise,
			Seed: rc.Key, Parallel: rc.Threads,
			Progress: chainProgress(rc, p.Chains, total),
		},
		StepSize: p.StepSize, BatchSize: p.BatchSize, Warmup: p.Warmup, Steps: p.Steps,
		EvalEvery: p.EvalEvery, Precond: p.Precond,
	}
	fmt.Fprintf(rc.Log, "sgld: d = %d, n = %d, nβ = %g, γ = %g, ε = %g, %d chains × %d steps after %d warmup\n",
		in.d, in.n, nBeta, p.Gamma, p.StepSize, p.Chains, p.Steps, p.Warmup)
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
	return writeSamplerOutputs(rc, "sgld", in, run, eps)
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

// samplerResult is a sampler node's result.json.
type samplerResult struct {
	Kind        string           `json:"kind"`
	FamilyID    string           `json:"family_id"`
	D           int              `json:"d"`
	N           int              `json:"n"`
	NBeta       float64          `json:"n_beta"`
	Gamma       float64          `json:"gamma"`
	Chains      int              `json:"chains"`
	Draws       int              `json:"draws"`
	LossStar    any              `json:"loss_star"`
	LLCMean     any              `json:"llc_mean"`
	LLCSE       any              `json:"llc_se"`
	ChainMeans  []any            `json:"chain_means"`
	ESSBulk     any              `json:"ess_bulk"`
	ESSTail     any              `json:"ess_tail"`
	RHat        any              `json:"rhat"`
	LambdaTrue  any              `json:"lambda_true"`
	LambdaExact any              `json:"lambda_exact"`
	Work        samplers.Work    `json:"work"`
	Stats       map[string]any   `json:"stats"`
	ChainStats  []map[string]any `json:"chain_stats"`
}

// writeSamplerOutputs writes trace.csv and result.json. sgldEps is the
// step size of an unpreconditioned SGLD run, whose exact value on a
// quadratic target includes the step-size bias, and 0 otherwise.
func writeSamplerOutputs(rc *RunContext, kind string, in *samplerInput, run *samplers.Run, sgldEps float64) error {
	est := samplers.Summarize(run)
	var trace strings.Builder
	var series []string
	if len(run.Chains) > 0 {
		for name := range run.Chains[0].Series {
			series = append(series, name)
		}
		sort.Strings(series)
	}
	trace.WriteString("chain,draw,step,loss,llc")
	for _, s := range series {
		trace.WriteString("," + s)
	}
	trace.WriteString("\n")
	chainStats := make([]map[string]any, len(run.Chains))
	for c, ch := range run.Chains {
		chainStats[c] = finiteMap(ch.Stats)
		for i, loss := range ch.Loss {
			llc := run.NBeta * (loss - run.LossStar)
			trace.WriteString(strconv.Itoa(c) + "," + strconv.Itoa(i) + "," + strconv.Itoa(ch.Step[i]) + "," +
				fmtFloat(loss) + "," + fmtFloat(llc))
			for _, s := range series {
				trace.WriteString("," + fmtFloat(ch.Series[s][i]))
			}
			trace.WriteString("\n")
		}
	}
	if err := writeFile(rc.Dir, fileTrace, []byte(trace.String())); err != nil {
		return err
	}
	if math.IsNaN(est.LLCMean) || math.IsInf(est.LLCMean, 0) {
		return fmt.Errorf("the LLC estimate is %v; the chains produced no finite draws", est.LLCMean)
	}
	fmt.Fprintf(rc.Log, "%s: llc = %.4g ± %.2g (ESS bulk %.0f, R̂ %.3f)\n", kind, est.LLCMean, est.LLCSE, est.ESSBulk, est.RHat)
	var lambdaTrue, lambdaExact any
	if in.target != nil {
		lambdaTrue = in.target.Lambda
		if v, ok := exactLLC(in.target.Kind, in.target.Params, run.NBeta, run.Gamma, sgldEps); ok {
			lambdaExact = finite(v)
		}
	}
	return writeJSON(rc.Dir, "result.json", samplerResult{
		LambdaTrue: lambdaTrue, LambdaExact: lambdaExact,
		Kind: kind, FamilyID: in.runID, D: in.d, N: in.n, NBeta: run.NBeta, Gamma: run.Gamma,
		Chains: len(run.Chains), Draws: est.Draws, LossStar: finite(run.LossStar),
		LLCMean: finite(est.LLCMean), LLCSE: finite(est.LLCSE), ChainMeans: finiteSlice(est.ChainMeans),
		ESSBulk: finite(est.ESSBulk), ESSTail: finite(est.ESSTail), RHat: finite(est.RHat),
		Work: run.Work, Stats: finiteMap(run.Stats), ChainStats: chainStats,
	})
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
