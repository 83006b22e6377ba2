package report

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
)

// Summary is the part of a sampler node's result.json that tables and
// plots read. Numbers are nil when the file lacks them or holds null
// (a non-finite value), so a result written by an older or newer sampler
// version still reads.
type Summary struct {
	Kind     string `json:"kind"`
	FamilyID string `json:"family_id"`
	D        int    `json:"d"`
	N        int    `json:"n"`
	Chains   int    `json:"chains"`
	Draws    int    `json:"draws"`

	NBeta      *float64   `json:"n_beta"`
	Gamma      *float64   `json:"gamma"`
	LossStar   *float64   `json:"loss_star"`
	LLCMean    *float64   `json:"llc_mean"`
	LLCSE      *float64   `json:"llc_se"`
	ChainMeans []*float64 `json:"chain_means"`
	ESSBulk    *float64   `json:"ess_bulk"`
	ESSTail    *float64   `json:"ess_tail"`
	RHat       *float64   `json:"rhat"`
	// LambdaTrue is the known λ of a target and LambdaExact its exact
	// value at this nβ; both are nil for trained models.
	LambdaTrue  *float64 `json:"lambda_true"`
	LambdaExact *float64 `json:"lambda_exact"`

	Work       Work                  `json:"work"`
	Stats      map[string]*float64   `json:"stats"`
	ChainStats []map[string]*float64 `json:"chain_stats"`

	// LambdaMultiplicity is the multiplicity m of LambdaTrue, nil when
	// unknown.
	LambdaMultiplicity *float64 `json:"lambda_multiplicity"`
	// ESSMean is the ESS of the plain mean of the LLC draws, and LLCSEMean
	// the more cautious standard error sd/√ESSMean that goes with it.
	ESSMean   *float64 `json:"ess_mean"`
	LLCSEMean *float64 `json:"llc_se_mean"`

	// ESSPerFDE and WNVFDE are the sampler's efficiency per FDE, warmup
	// and tuning included, and the _sampling variants per FDE of the
	// recorded steps only. Derive computes ESSPerFDE and WNVFDE from the
	// work when a result lacks them. The efficiency per second is never
	// stored, because the wall time is provenance, not a result.
	ESSPerFDE         *float64 `json:"ess_per_fde"`
	WNVFDE            *float64 `json:"wnv_fde"`
	ESSPerFDESampling *float64 `json:"ess_per_fde_sampling"`
	WNVFDESampling    *float64 `json:"wnv_fde_sampling"`
	// Warnings are the health checks that the sampler failed, in words.
	Warnings []string `json:"warnings"`
	// CheckpointStep is the training step of the erm checkpoint that the
	// sampler ran at, for runs along a training trajectory.
	CheckpointStep *float64 `json:"checkpoint_step"`

	// BatchSize is an SGLD run's minibatch size b from the node's params,
	// not from result.json, so that the acceptance flag can tell a
	// minibatch run (b < N) from a full-batch one. It is nil when unknown.
	BatchSize *float64 `json:"-"`
}

// Work is the work block of result.json, counted in full-data equivalents
// of gradient evaluations (FDE).
type Work struct {
	// GradFDE counts every gradient, warmup and tuning included.
	GradFDE *float64 `json:"grad_fde"`
	// GradFDESampling counts the gradients of the recorded steps only.
	GradFDESampling *float64 `json:"grad_fde_sampling"`
	LossEvals       *float64 `json:"loss_evals"`
}

// ReadSummary reads a sampler's result.json.
func ReadSummary(path string) (*Summary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return &s, nil
}

// Stat returns a node-level statistic of the sampler, such as
// "acceptance_rate", or nil.
func (s *Summary) Stat(name string) *float64 {
	return finitePtr(s.Stats[name])
}

// ChainStat returns the per-chain values of a statistic, with NaN for a
// chain that lacks it, or nil when no chain has it.
func (s *Summary) ChainStat(name string) []float64 {
	var out []float64
	found := false
	for _, cs := range s.ChainStats {
		v := finitePtr(cs[name])
		if v == nil {
			out = append(out, math.NaN())
			continue
		}
		found = true
		out = append(out, *v)
	}
	if !found {
		return nil
	}
	return out
}

func finitePtr(v *float64) *float64 {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return nil
	}
	return v
}

// num returns a pointer to f, or nil when f is not finite.
func num(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}
