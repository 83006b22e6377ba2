package kinds

import (
	"context"
	"fmt"

	"github.com/llcflow/llcflow/datasets"
	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/models"
	"github.com/llcflow/llcflow/rng"
)

// The teacher_classification dataset draws labels from a teacher MLP's
// logits: class labels in [0, K) for a teacher with K ≥ 2 outputs (train
// with loss = "cross_entropy"), 0/1 labels for one output (loss =
// "logistic"). Y holds one label per row and result.json records classes.
func init() {
	register(checkingWholeNumbers(&Kind{
		Type:    "dataset",
		Name:    "teacher_classification",
		Version: "teacher_classification/1",
		Attrs: append([]Attr{
			atLeast(Attr{Name: "n", Type: Int, Default: 1000.0, Doc: "number of data points"}, 1),
			atLeast(Attr{Name: "in_dim", Type: Int, Doc: "input dimension"}, 1),
			{Name: "teacher", Type: Object, Doc: "the teacher network; its outputs are the logits", Fields: []Attr{
				atLeast(Attr{Name: "widths", Type: IntList, Doc: "layer widths, input first, one output per class (or one for binary labels)"}, 1),
				{Name: "activation", Type: String, Default: "tanh", Enum: activations},
				{Name: "bias", Type: Bool, Default: false, Doc: "biases (initialized to zero)"},
				{Name: "init", Type: String, Default: "he", Enum: []string{"he", "xavier"}},
			}},
			{Name: "labels", Type: String, Default: "sample", Enum: []string{"sample", "argmax"},
				Doc: "draw each label from the teacher's probabilities, or take the most likely class"},
			positive(Attr{Name: "logit_scale", Type: Number, Default: 1.0, Doc: "factor on the teacher's logits; larger values give less label noise"}),
			{Name: "seed", Type: Int, Default: 0.0, Doc: "seed; it enters the key, which seeds the generator"},
		}, inputAttrs()...),
		Check: checkClassification,
		Run:   runClassification,
	}))
}

type classificationParams struct {
	inputParams
	N          int           `json:"n"`
	InDim      int           `json:"in_dim"`
	Teacher    teacherParams `json:"teacher"`
	Labels     string        `json:"labels"`
	LogitScale float64       `json:"logit_scale"`
}

func checkClassification(params map[string]any) []dsl.FieldError {
	var p classificationParams
	if err := decode(params, &p); err != nil {
		return []dsl.FieldError{{Summary: "Invalid value", Detail: err.Error()}}
	}
	if errs := checkTeacher(p.Teacher, p.InDim); errs != nil {
		return errs
	}
	// Y holds one label per row.
	if errs := checkDataSize(p.N, p.InDim, 1); errs != nil {
		return errs
	}
	return checkInputs(params, p.InDim)
}

func runClassification(ctx context.Context, rc *RunContext) error {
	var p classificationParams
	if err := decode(rc.Params, &p); err != nil {
		return err
	}
	teacher, err := models.NewMLP(p.Teacher.Widths, p.Teacher.Activation, p.Teacher.Bias)
	if err != nil {
		return fmt.Errorf("teacher: %w", err)
	}
	gen := datasets.Classification{
		N: p.N, InDim: p.InDim, Inputs: p.inputs(),
		Teacher: *teacher, TeacherInit: p.Teacher.Init,
		Labels: p.Labels, LogitScale: p.LogitScale,
	}
	x, y, teacherW, err := gen.Generate(rng.New(rc.Key, "dataset", 0))
	if err != nil {
		return err
	}
	return writeSynthetic(rc, syntheticData{
		x: x, y: y, n: p.N, teacherW: teacherW,
		result: datasetResult{
			InDim: p.InDim, OutDim: 1, Classes: gen.Classes(),
			Teacher: &teacherInfo{Widths: teacher.Widths, Activation: teacher.Activation, Bias: teacher.Bias},
		},
	})
}
