package kinds

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/models"
	"github.com/llcflow/llcflow/npy"
	"github.com/llcflow/llcflow/rng"
)

// Output files of erm nodes.
const (
	fileWeights = "weights.npy" // w*, in the model's parameter layout
	fileCurve   = "curve.csv"   // step,loss
)

// gradNormWarning is the gradient norm at w* above which an erm node warns
// that w* is not a minimum, where LLC estimates tend to come out negative.
const gradNormWarning = 1e-2

func init() {
	register(&Kind{
		Type:    "model",
		Name:    "mlp",
		Version: "mlp/1",
		Attrs: []Attr{
			atLeast(Attr{Name: "widths", Type: IntList, Doc: "layer widths, input first"}, 1),
			{Name: "activation", Type: String, Default: "relu", Enum: activations},
			{Name: "bias", Type: Bool, Default: true},
			{Name: "init", Type: String, Default: "he", Enum: []string{"he", "xavier"}},
		},
		Check: checkMLP,
	})
	register(&Kind{
		Type:    "erm",
		Name:    "erm",
		Version: "erm/1",
		Attrs: []Attr{
			{Name: "dataset", Type: NodeRef, RefType: "dataset", Doc: "the dataset to train on, dataset.NAME"},
			{Name: "model", Type: ModelRef, Doc: "the model to train, model.NAME"},
			{Name: "optimizer", Type: Object, Doc: "full-batch optimizer", Fields: []Attr{
				{Name: "kind", Type: String, Default: "adam", Enum: []string{"adam", "sgd"}},
				positive(Attr{Name: "lr", Type: Number, Default: 0.01, Doc: "learning rate"}),
				positive(Attr{Name: "beta1", Type: Number, Default: 0.9, Doc: "Adam's first-moment decay rate, in (0, 1)"}),
				positive(Attr{Name: "beta2", Type: Number, Default: 0.999, Doc: "Adam's second-moment decay rate, in (0, 1)"}),
				positive(Attr{Name: "eps", Type: Number, Default: 1e-8}),
			}},
			nonNegative(Attr{Name: "steps", Type: Int, Default: 2000.0, Doc: "full-batch training steps"}),
			atLeast(Attr{Name: "log_every", Type: Int, Default: 10.0, Doc: "steps between points of the training curve"}, 1),
			{Name: "init", Type: String, Optional: true, Enum: []string{"model", "teacher"},
				Doc: "starting weights: \"model\" (the default) draws them by the model's init scheme, \"teacher\" copies the dataset's teacher, so that with steps = 0 the teacher is w*"},
		},
		Check: checkERM,
		Run:   runERM,
	})
}

type mlpParams struct {
	Kind       string `json:"kind"`
	Widths     []int  `json:"widths"`
	Activation string `json:"activation"`
	Bias       bool   `json:"bias"`
	Init       string `json:"init"`
}

func checkMLP(params map[string]any) []dsl.FieldError {
	var p mlpParams
	if err := decode(params, &p); err != nil {
		return []dsl.FieldError{{Summary: "Invalid value", Detail: err.Error()}}
	}
	if len(p.Widths) < 2 {
		return []dsl.FieldError{{Attr: "widths", Summary: "Invalid value",
			Detail: fmt.Sprintf("widths needs at least an input and an output width, got %v.", p.Widths)}}
	}
	return nil
}

type ermParams struct {
	Model     mlpParams `json:"model"`
	Optimizer struct {
		Kind  string  `json:"kind"`
		LR    float64 `json:"lr"`
		Beta1 float64 `json:"beta1"`
		Beta2 float64 `json:"beta2"`
		Eps   float64 `json:"eps"`
	} `json:"optimizer"`
	Steps    int    `json:"steps"`
	LogEvery int    `json:"log_every"`
	Init     string `json:"init"`
}

// checkERM drops init = "model", which is what an absent init means, so
// that both spellings give the same key.
func checkERM(params map[string]any) []dsl.FieldError {
	if params["init"] == "model" {
		delete(params, "init")
	}
	return nil
}

// ermResult is the erm node's result.json. Samplers read it back.
type ermResult struct {
	DatasetRunID string    `json:"dataset_run_id"`
	Model        mlpParams `json:"model"`
	D            int       `json:"d"`
	N            int       `json:"n"`
	Steps        int       `json:"steps"`
	FinalLoss    any       `json:"final_loss"`
	GradNorm     any       `json:"grad_norm"`
	NotMinimum   bool      `json:"not_minimum"`
	// Init is "model" or "teacher", the starting weights.
	Init string `json:"init"`
	// LambdaTrue is the learning coefficient λ of the model at the
	// dataset's teacher when it is known in closed form (a linear
	// teacher of known rank and a bias-free identity model that can
	// realize it), and null otherwise. LambdaMultiplicity is its
	// multiplicity m where known, else null.
	LambdaTrue         any `json:"lambda_true"`
	LambdaMultiplicity any `json:"lambda_multiplicity"`
}

func runERM(ctx context.Context, rc *RunContext) error {
	var p ermParams
	if err := decode(rc.Params, &p); err != nil {
		return err
	}
	dataDir := rc.Inputs["dataset"]
	x, y, n, inDim, outDim, err := readDataset(dataDir)
	if err != nil {
		return err
	}
	mlp, err := newModel(p.Model, inDim, outDim)
	if err != nil {
		return err
	}
	dataRes, err := readDatasetResult(dataDir)
	if err != nil {
		return err
	}
	w, err := initialWeights(rc, p, mlp, dataDir, dataRes)
	if err != nil {
		return err
	}
	reg, err := models.NewRegression(mlp, x, y, n, "mse")
	if err != nil {
		return err
	}
	cfg := models.TrainConfig{
		Optimizer: p.Optimizer.Kind, LR: p.Optimizer.LR,
		Beta1: p.Optimizer.Beta1, Beta2: p.Optimizer.Beta2, Eps: p.Optimizer.Eps,
		Steps: p.Steps, LogEvery: p.LogEvery,
	}
	res, err := models.Train(ctx, reg.NewEvaluator(), w, cfg, func(done, total int) {
		if rc.Progress != nil && total > 0 {
			rc.Progress(float64(done)/float64(total), fmt.Sprintf("step %d/%d", done, total))
		}
	})
	if err != nil {
		return err
	}
	if err := npy.Write(filepath.Join(rc.Dir, fileWeights), []int{len(w)}, w); err != nil {
		return err
	}
	var curve strings.Builder
	curve.WriteString("step,loss\n")
	for _, pt := range res.Curve {
		curve.WriteString(strconv.Itoa(pt.Step) + "," + strconv.FormatFloat(pt.Loss, 'g', -1, 64) + "\n")
	}
	if err := writeFile(rc.Dir, fileCurve, []byte(curve.String())); err != nil {
		return err
	}
	notMin := res.GradNorm > gradNormWarning
	fmt.Fprintf(rc.Log, "trained %d parameters for %d steps: L_n(w*) = %g, |grad| = %g\n",
		len(w), p.Steps, res.FinalLoss, res.GradNorm)
	if notMin {
		fmt.Fprintf(rc.Log, "warning: gradient norm %g at w* exceeds %g, so w* is not a minimum and LLC estimates may come out negative; train longer or raise the learning rate\n",
			res.GradNorm, gradNormWarning)
	}
	lambda, mult := lambdaTrue(dataRes, mlp)
	return writeJSON(rc.Dir, "result.json", ermResult{
		DatasetRunID: filepath.Base(dataDir),
		Model:        p.Model, D: len(w), N: n, Steps: p.Steps,
		FinalLoss: finite(res.FinalLoss), GradNorm: finite(res.GradNorm), NotMinimum: notMin,
		Init: initName(p.Init), LambdaTrue: lambda, LambdaMultiplicity: mult,
	})
}

func initName(init string) string {
	if init == "" {
		return "model"
	}
	return init
}

// initialWeights returns the weights training starts from: drawn by the
// model's init scheme, or the dataset's teacher.
func initialWeights(rc *RunContext, p ermParams, mlp *models.MLP, dataDir string, dataRes *datasetResult) ([]float64, error) {
	w := make([]float64, mlp.NumParams())
	if p.Init != "teacher" {
		if err := mlp.Init(w, rng.New(rc.Key, "init", 0), p.Model.Init); err != nil {
			return nil, err
		}
		return w, nil
	}
	return readTeacher(dataDir, dataRes, mlp)
}

// newModel builds the MLP of a model block and checks it against the data.
func newModel(p mlpParams, inDim, outDim int) (*models.MLP, error) {
	w := p.Widths
	if w[0] != inDim || w[len(w)-1] != outDim {
		return nil, fmt.Errorf("model widths %v do not fit the dataset: the first width must be the input dimension %d and the last the output dimension %d", w, inDim, outDim)
	}
	return models.NewMLP(w, p.Activation, p.Bias)
}
