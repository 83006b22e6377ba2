package kinds

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/llcflow/llcflow/datasets"
	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/models"
	"github.com/llcflow/llcflow/npy"
	"github.com/llcflow/llcflow/rng"
	"github.com/llcflow/llcflow/targets"
)

// The linear_teacher dataset draws regression data from a deep linear
// teacher y = W_L ⋯ W_1 x whose product has a given rank: reduced-rank
// regression with three widths, a deep linear network with more. Its
// result.json records the teacher's widths and true_rank, from which erm
// nodes whose model is a bias-free identity MLP compute lambda_true.
// teacher_form = "most_singular" keeps x and y but refactors the teacher's
// product into rank-r factors (targets.Linear.MostSingular), so that a
// teacher w* sits where that λ is the local learning coefficient.
func init() {
	register(checkingWholeNumbers(&Kind{
		Type:    "dataset",
		Name:    "linear_teacher",
		Version: "linear_teacher/1",
		Attrs: append([]Attr{
			atLeast(Attr{Name: "n", Type: Int, Default: 1000.0, Doc: "number of data points"}, 1),
			atLeast(Attr{Name: "widths", Type: IntList, Doc: "teacher widths H_1 (input) … H_{L+1} (output)"}, 1),
			nonNegative(Attr{Name: "rank", Type: Int, Doc: "rank r of the product W_L ⋯ W_1, at most the smallest width"}),
			{Name: "init", Type: String, Default: "xavier", Enum: []string{"he", "xavier"},
				Doc: "scale of the teacher's matrices"},
			{Name: "teacher_form", Type: String, Optional: true, Enum: []string{teacherGeneric, teacherMostSingular},
				Doc: "factors of teacher.npy: \"generic\" (the default) has full-rank W_2 … W_L, \"most_singular\" gives every factor rank r with the same product and data"},
			noiseAttr(0),
			{Name: "seed", Type: Int, Default: 0.0, Doc: "seed; it enters the key, which seeds the generator"},
		}, inputAttrs()...),
		Check: checkLinearTeacher,
		Run:   runLinearTeacher,
	}))
}

type linearTeacherParams struct {
	inputParams
	N      int         `json:"n"`
	Widths []int       `json:"widths"`
	Rank   int         `json:"rank"`
	Init   string      `json:"init"`
	Noise  noiseParams `json:"noise"`
	// TeacherForm is teacherMostSingular or "" for the generic teacher.
	TeacherForm string `json:"teacher_form"`
}

// Teacher forms of the linear_teacher dataset.
const (
	teacherGeneric      = "generic"
	teacherMostSingular = "most_singular"
)

func (p linearTeacherParams) config() datasets.LinearTeacher {
	return datasets.LinearTeacher{
		N: p.N, Widths: p.Widths, Rank: p.Rank, Init: p.Init,
		Inputs: p.inputs(), Noise: p.Noise.noise(),
	}
}

// checkLinearTeacher drops teacher_form = "generic", so that both
// spellings of the default give the key of a dataset without it.
func checkLinearTeacher(params map[string]any) []dsl.FieldError {
	dropValue(params, "teacher_form", teacherGeneric)
	var p linearTeacherParams
	if err := decode(params, &p); err != nil {
		return []dsl.FieldError{{Summary: "Invalid value", Detail: err.Error()}}
	}
	if len(p.Widths) < 2 {
		return []dsl.FieldError{{Attr: "widths", Summary: "Invalid value",
			Detail: fmt.Sprintf("widths needs at least an input and an output width, got %v.", p.Widths)}}
	}
	if m := minInt(p.Widths); p.Rank > m {
		return []dsl.FieldError{{Attr: "rank", Summary: "Invalid value",
			Detail: fmt.Sprintf("rank %d exceeds the smallest teacher width %d of %v; the product of the matrices has rank at most %d.",
				p.Rank, m, p.Widths, m)}}
	}
	// The deep linear teacher has no biases.
	if errs := checkTeacherSize(p.Widths, false, "widths"); errs != nil {
		return errs
	}
	if errs := checkDataSize(p.N, p.Widths[0], p.Widths[len(p.Widths)-1]); errs != nil {
		return errs
	}
	return append(checkInputs(params, p.Widths[0]), checkNoise(params)...)
}

func runLinearTeacher(ctx context.Context, rc *RunContext) error {
	var p linearTeacherParams
	if err := decode(rc.Params, &p); err != nil {
		return err
	}
	gen := p.config()
	x, y, teacherW, err := gen.Generate(rng.New(rc.Key, "dataset", 0))
	if err != nil {
		return err
	}
	if p.TeacherForm == teacherMostSingular {
		teacher := targets.Linear{Widths: p.Widths, Rank: p.Rank}
		if teacherW, err = teacher.MostSingular(teacherW); err != nil {
			return fmt.Errorf("most singular teacher: %w", err)
		}
	}
	rank := p.Rank
	return writeSynthetic(rc, syntheticData{
		x: x, y: y, n: p.N, teacherW: teacherW,
		result: datasetResult{
			InDim: p.Widths[0], OutDim: p.Widths[len(p.Widths)-1],
			Teacher:     &teacherInfo{Widths: p.Widths, Activation: "identity", Bias: false},
			TrueRank:    &rank,
			TeacherForm: p.TeacherForm,
		},
	})
}

func minInt(a []int) int {
	m := a[0]
	for _, v := range a[1:] {
		m = min(m, v)
	}
	return m
}

// readTeacher returns the teacher weights of a dataset run, after checking
// that the model has the teacher's architecture.
func readTeacher(dir string, res *datasetResult, mlp *models.MLP) ([]float64, error) {
	t := res.Teacher
	if t == nil {
		return nil, fmt.Errorf(`init = "teacher": dataset run %s records no teacher; use a synthetic dataset kind, or rerun the dataset with llcflow apply --rerun if it was made by an older llcflow`,
			filepath.Base(dir))
	}
	if !slices.Equal(t.Widths, mlp.Widths) || t.Activation != mlp.Activation || t.Bias != mlp.Bias {
		return nil, fmt.Errorf(`init = "teacher" needs the model to match the teacher: the model has widths %v, activation %q and bias = %v, the teacher widths %v, activation %q and bias = %v`,
			mlp.Widths, mlp.Activation, mlp.Bias, t.Widths, t.Activation, t.Bias)
	}
	_, w, err := npy.Read(filepath.Join(dir, fileTeacher))
	if err != nil {
		return nil, err
	}
	if len(w) != mlp.NumParams() {
		return nil, fmt.Errorf("teacher weights of dataset run %s have %d values, the model needs %d", filepath.Base(dir), len(w), mlp.NumParams())
	}
	return w, nil
}

// lambdaTrue returns the learning coefficient λ and its multiplicity m of
// a model on data from a linear teacher of known rank r, or nil when λ is
// not known in closed form. It is known when the model is a bias-free
// identity MLP that can realize the teacher (every width at least r):
// LambdaRRR for two matrices, which also gives m, and LambdaDLN otherwise.
// One matrix is a regular model with λ = d/2 and m = 1.
func lambdaTrue(res *datasetResult, mlp *models.MLP, fromTeacher bool) (lambda, multiplicity any) {
	if res.TrueRank == nil || mlp.Activation != "identity" || mlp.Bias {
		return nil, nil
	}
	// λ is the coefficient at the most singular true parameter. A trained
	// w* lies at a generic point of the true set, as does the generic
	// teacher unless its factors have rank r anyway; there the local
	// coefficient is larger, so λ is no reference value.
	if !fromTeacher || res.Teacher == nil || !teacherAtMostSingular(res.Teacher.Widths, *res.TrueRank, res.TeacherForm) {
		return nil, nil
	}
	w, r := mlp.Widths, *res.TrueRank
	if w[0] != res.InDim || w[len(w)-1] != res.OutDim || r > minInt(w) {
		return nil, nil
	}
	switch len(w) {
	case 2:
		return float64(w[0]*w[1]) / 2, 1
	case 3:
		l, m := targets.LambdaRRR(w[0], w[1], w[2], r)
		return l, m
	}
	return targets.LambdaDLN(w, r), nil
}

// teacherAtMostSingular reports whether teacher.npy of a linear_teacher
// dataset lies where LambdaRRR and LambdaDLN give the local learning
// coefficient: always for the most singular form, and for the generic
// form when r is the smallest width or every factor has rank r anyway.
// The generic W_1 has rank r and W_l for l ≥ 2 has rank min(H_l, H_{l+1}).
// Elsewhere the coefficient at the generic teacher exceeds λ: 4.5 against
// λ = 4 for widths (3, 3, 3) and r = 1.
func teacherAtMostSingular(widths []int, rank int, form string) bool {
	if form == teacherMostSingular || rank == minInt(widths) {
		return true
	}
	for l := 2; l < len(widths); l++ {
		if min(widths[l-1], widths[l]) != rank {
			return false
		}
	}
	return true
}
