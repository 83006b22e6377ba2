package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Thresholds of the trust flags.
const (
	// MaxRHat is the largest rank-normalized split R̂ that counts as
	// converged (Vehtari et al. 2021).
	MaxRHat = 1.01
	// MinESSPerChain is the smallest bulk and tail ESS per chain that
	// Vehtari et al. 2021 recommend before trusting R̂ and the ESS itself
	// (100 per chain, 400 for four chains).
	MinESSPerChain = 100
	// SGLDTargetAccept is the MALA acceptance that a well-sized SGLD step
	// has in devinterp's convention, and SGLDAcceptTolerance the distance
	// from it beyond which the step size is flagged.
	SGLDTargetAccept    = 0.9
	SGLDAcceptTolerance = 0.1
	// MaxFracBelowStar is the largest fraction of draws with L_n below
	// L_n(w*) that is not flagged. Above it, the median draw has a
	// negative LLC nβ·(L_n − L_n(w*)), so the chains went downhill from
	// w* instead of exploring a basin around it.
	MaxFracBelowStar = 0.5
	// MaxExactDeviation is the largest deviation from lambda_exact, in
	// standard errors, that is not flagged: an unbiased sampler with a
	// right SE lands beyond it about once in 16,000 runs.
	MaxExactDeviation = 4
)

// Flag is a reason to doubt an estimate until it is checked or rerun.
type Flag struct {
	// Code is a short identifier, one of the keys of FlagMeaning.
	Code string `json:"code"`
	// Message states what was measured and what to do.
	Message string `json:"message"`
}

// flagOrder lists the flag codes in the order CheckTrust returns them,
// each with its meaning for a legend.
var flagOrder = []struct{ code, meaning string }{
	{"off_exact", fmt.Sprintf("more than %d SE from lambda_exact: the sampler is biased at these settings or mixes too slowly for its SE", MaxExactDeviation)},
	{"rhat", fmt.Sprintf("R̂ above %.2f: the chains disagree, so run more draws or more chains", MaxRHat)},
	{"low_ess", fmt.Sprintf("bulk or tail ESS below %d per chain: the standard error is unreliable, so run more draws", MinESSPerChain)},
	{"divergences", "HMC divergent transitions after warmup: the estimate may be biased, so lower step_size or raise target_accept"},
	{"energy_var", "MCLMC energy-error variance more than twice its tuning target: check the estimate at half the tuned step size, which the warning gives"},
	{"sgld_accept", fmt.Sprintf("SGLD's MALA acceptance more than %.1f from %.1f: the step size may be too large or too small "+
		"(in a minibatch run the value also includes minibatch noise)", SGLDAcceptTolerance, SGLDTargetAccept)},
	{"below_star", fmt.Sprintf("more than %.0f%% of the draws have a loss below L_n(w*): w* is not a local minimum, so train longer or raise gamma", 100*MaxFracBelowStar)},
	{"not_minimum", "the erm's gradient norm at w* is too large for a minimum: train longer or raise the learning rate"},
	{"negative", "a negative estimate: w* is not a local minimum, so train longer or raise gamma"},
	{"warning", "a sampler warning that no other flag covers, listed in the warnings field"},
}

// FlagMeaning returns a one-line meaning of a flag code for a legend, or
// "" for an unknown code.
func FlagMeaning(code string) string {
	for _, f := range flagOrder {
		if f.code == code {
			return f.meaning
		}
	}
	return ""
}

func flagRank(code string) int {
	for i, f := range flagOrder {
		if f.code == code {
			return i
		}
	}
	return len(flagOrder)
}

// Family is the part of an erm node's result.json that the trust flags,
// the results rows and the training plot read. A target's result.json has
// none of these fields.
type Family struct {
	NotMinimum bool     `json:"not_minimum"`
	GradNorm   *float64 `json:"grad_norm"`
	// FinalLoss is the training loss L_n at w*, and Accuracy the fraction
	// of correct predictions there (nil for a regression loss).
	FinalLoss *float64 `json:"final_loss"`
	Accuracy  *float64 `json:"accuracy"`
	// Checkpoint is the training step of a checkpoint erm's w*, nil for a
	// training erm, and TrainedRunID the run id of the training erm that
	// the checkpoint comes from.
	Checkpoint   *float64 `json:"checkpoint"`
	TrainedRunID string   `json:"trained_run_id"`
	// Steps is the number of training steps, nil in results that lack
	// it, and Init the starting weights: "model", "teacher" or "weights"
	// (a weights file).
	Steps *float64 `json:"steps"`
	Init  string   `json:"init"`
}

// CheckTrust returns the trust flags of a sampler run in the order of
// flagOrder, at most one per code. family is the result of the erm the
// sampler ran on, or nil. The flags come from the numbers of the summary
// and from the sampler's own warnings. A warning adds nothing when a
// number already raised its code. Warnings that match no code make one
// "warning" flag, whose message joins their texts.
func CheckTrust(s *Summary, m Metrics, family *Family) []Flag {
	flags := numericFlags(s, m)
	if family != nil && family.NotMinimum {
		flags = append(flags, notMinimumFlag(family))
	}
	for _, w := range s.Warnings {
		code := warningCode(w)
		i := slices.IndexFunc(flags, func(f Flag) bool { return f.Code == code })
		switch {
		case i < 0:
			flags = append(flags, Flag{code, w})
		case code == "warning":
			flags[i].Message += "; " + w
		}
	}
	slices.SortStableFunc(flags, func(a, b Flag) int { return flagRank(a.Code) - flagRank(b.Code) })
	return flags
}

// numericFlags returns the flags that follow from the summary's numbers.
func numericFlags(s *Summary, m Metrics) []Flag {
	var flags []Flag
	if f, ok := offExact(s); ok {
		flags = append(flags, f)
	}
	if r := finitePtr(s.RHat); r != nil && *r > MaxRHat {
		flags = append(flags, Flag{"rhat", fmt.Sprintf(
			"R̂ = %.3f exceeds %.2f, so the chains disagree; run more draws or more chains", *r, MaxRHat)})
	}
	if f, ok := lowESS(s); ok {
		flags = append(flags, f)
	}
	if d := m.Divergences; d != nil && *d > 0 {
		flags = append(flags, Flag{"divergences", fmt.Sprintf(
			"%s divergent transitions; lower the step size or raise target_accept", formatCount(*d))})
	}
	if a := m.AcceptanceRate; s.Kind == "sgld" && a != nil && math.Abs(*a-SGLDTargetAccept) > SGLDAcceptTolerance {
		flags = append(flags, Flag{"sgld_accept", sgldAcceptMessage(s, *a)})
	}
	if f := m.FracBelowStar; f != nil && *f > MaxFracBelowStar {
		flags = append(flags, Flag{"below_star", fmt.Sprintf(
			"%.0f%% of the draws have a loss below L_n(w*), so w* is not a local minimum. Train longer or raise gamma", 100**f)})
	}
	if v := finitePtr(s.LLCMean); v != nil && *v < 0 {
		flags = append(flags, Flag{"negative", fmt.Sprintf(
			"the estimate %.4g is negative, which happens when w* is not a local minimum; train longer or raise gamma", *v)})
	}
	return flags
}

// offExact returns the off_exact flag when the summary has an exact value
// and its estimate lies more than MaxExactDeviation standard errors from
// it.
func offExact(s *Summary) (Flag, bool) {
	exact, mean, se := finitePtr(s.LambdaExact), finitePtr(s.LLCMean), finitePtr(s.LLCSE)
	if exact == nil || mean == nil || se == nil || !(*se > 0) {
		return Flag{}, false
	}
	z := (*mean - *exact) / *se
	if math.Abs(z) <= MaxExactDeviation {
		return Flag{}, false
	}
	return Flag{"off_exact", fmt.Sprintf(
		"the estimate %.4g is %+.1f SE from lambda_exact %.4g, so the sampler is biased at these settings "+
			"(the step size or energy target of an unadjusted sampler) or mixes too slowly for its SE; "+
			"compare with a smaller step or with HMC", *mean, z, *exact)}, true
}

// sgldAcceptMessage words the acceptance flag of an SGLD run. The MALA
// acceptance of a minibatch run is computed from minibatch losses and
// gradients, whose noise lowers it at any step size. It still falls as
// the step grows (on one MLP at nβ = 587, from 0.63 at ε = 1e-4 to 0.50
// at 1e-3, where the estimate was 3.6 times HMC's), so a low value gets
// the step size check in either case.
func sgldAcceptMessage(s *Summary, accept float64) string {
	measured := fmt.Sprintf("MALA acceptance %.2f is more than %.1f from %.1f", accept, SGLDAcceptTolerance, SGLDTargetAccept)
	if accept > SGLDTargetAccept {
		return measured + "; raise step_size"
	}
	switch {
	case s.BatchSize == nil:
		return measured + "; in a full-batch run, lower step_size. In a minibatch run minibatch noise lowers " +
			"it too, so compare the estimate with a run at a tenth of step_size"
	case *s.BatchSize < float64(s.N):
		return fmt.Sprintf("%s. Minibatch noise (batches of %.0f of the %d points) lowers it at any step size, but so "+
			"does a step that is too large: compare the estimate with a run at a tenth of step_size", measured, *s.BatchSize, s.N)
	}
	return measured + " in this full-batch run; lower step_size"
}

func notMinimumFlag(family *Family) Flag {
	norm := "large"
	if g := finitePtr(family.GradNorm); g != nil {
		norm = strconv.FormatFloat(*g, 'g', 3, 64)
	}
	return Flag{"not_minimum", fmt.Sprintf(
		"the erm's gradient norm at w* is %s, so w* is not a minimum and the estimate may be biased or negative. "+
			"%s", norm, notMinimumAdvice(family))}
}

// notMinimumAdvice returns what to do about a w* that is not a minimum.
// A training erm with steps = 0 trained nothing, so its w* is its starting
// point.
func notMinimumAdvice(family *Family) string {
	if family.Steps == nil || *family.Steps > 0 || family.Checkpoint != nil {
		return "Train longer or raise the learning rate"
	}
	switch family.Init {
	case "weights":
		return "Nothing was trained (steps = 0): set steps to train from the file's weights, or check the file"
	case "teacher":
		return "Nothing was trained (steps = 0): set steps to train from the teacher's weights"
	}
	return "Nothing was trained (steps = 0): set steps"
}

// warningPhrases map a phrase of a sampler warning to its flag code. The
// sampler kinds word their warnings with these phrases.
var warningPhrases = []struct{ phrase, code string }{
	{"R-hat ", "rhat"},
	{"bulk ESS ", "low_ess"},
	{" divergent transitions", "divergences"},
	{"energy error variance", "energy_var"},
	{"energy error per dimension", "energy_var"},
	{"LLC estimate is negative", "negative"},
}

// warningCode returns the flag code of a sampler warning, "warning" when
// no phrase matches.
func warningCode(warning string) string {
	for _, p := range warningPhrases {
		if strings.Contains(warning, p.phrase) {
			return p.code
		}
	}
	return "warning"
}

func lowESS(s *Summary) (Flag, bool) {
	if s.Chains <= 0 {
		return Flag{}, false
	}
	min := float64(MinESSPerChain * s.Chains)
	for _, e := range []struct {
		name string
		v    *float64
	}{{"bulk", s.ESSBulk}, {"tail", s.ESSTail}} {
		if v := finitePtr(e.v); v != nil && *v < min {
			return Flag{"low_ess", fmt.Sprintf(
				"%s ESS %.0f is below %.0f (%d per chain); run more draws", e.name, *v, min, MinESSPerChain)}, true
		}
	}
	return Flag{}, false
}

func formatCount(f float64) string {
	if f == math.Trunc(f) {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 4, 64)
}

// FlagCodes returns every flag code in the order CheckTrust returns them.
func FlagCodes() []string {
	codes := make([]string, len(flagOrder))
	for i, f := range flagOrder {
		codes[i] = f.code
	}
	return codes
}
