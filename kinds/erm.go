package kinds

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
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
	fileCurve   = "curve.csv"   // step,loss and, for classification, accuracy
)

// gradNormWarning is the gradient norm at w* above which an erm node warns
// that w* is not a minimum, where LLC estimates tend to come out negative.
const gradNormWarning = 1e-2

var lossKinds = []string{"mse", "student_t", "cross_entropy", "logistic"}

// lossOptions are the defaults of the options of each loss.
var lossOptions = map[string]map[string]any{
	"mse":           {},
	"student_t":     {"loss_df": 4.0, "loss_scale": 1.0},
	"cross_entropy": {},
	"logistic":      {},
}

func init() {
	register(checkingWholeNumbers(&Kind{
		Type:    "model",
		Name:    "mlp",
		Version: "mlp/1",
		Attrs: []Attr{
			atLeast(Attr{Name: "widths", Type: IntList, Optional: true, Doc: "layer widths, input first"}, 1),
			atLeast(Attr{Name: "depth", Type: Int, Optional: true, Doc: "number of hidden layers, with width or target_params instead of widths"}, 1),
			atLeast(Attr{Name: "width", Type: Int, Optional: true, Doc: "hidden width of every hidden layer, with depth"}, 1),
			atLeast(Attr{Name: "target_params", Type: Int, Optional: true, Doc: "parameter count that picks a constant hidden width, with depth"}, 1),
			{Name: "activation", Type: String, Default: "relu", Enum: activations},
			{Name: "bias", Type: Bool, Default: true},
			{Name: "init", Type: String, Default: "he", Enum: []string{"he", "xavier"}},
		},
		Check: checkMLP,
	}))
	registerFileKind(&Kind{
		Type:    "erm",
		Name:    "erm",
		Version: "erm/2",
		Attrs:   ermAttrs(),
		Run:     runERM,
	}, checkERM)
}

func optimizerFields() []Attr {
	return []Attr{
		{Name: "kind", Type: String, Default: "adam", Enum: []string{"adam", "sgd"}},
		positive(Attr{Name: "lr", Type: Number, Default: 0.01, Doc: "learning rate"}),
		positive(Attr{Name: "beta1", Type: Number, Default: 0.9, Doc: "Adam's first-moment decay rate, in (0, 1)"}),
		positive(Attr{Name: "beta2", Type: Number, Default: 0.999, Doc: "Adam's second-moment decay rate, in (0, 1)"}),
		positive(Attr{Name: "eps", Type: Number, Default: 1e-8}),
	}
}

// ermAttrs is the erm schema. A training erm has dataset and model; a
// checkpoint erm has from and checkpoint and nothing else. The training
// settings are optional in the schema so that checkERM can tell the two
// apart, and checkERM fills in their defaults.
func ermAttrs() []Attr {
	return []Attr{
		{Name: "dataset", Type: NodeRef, RefType: "dataset", Optional: true, Doc: "the dataset to train on, dataset.NAME"},
		{Name: "model", Type: ModelRef, Optional: true, Doc: "the model to train, model.NAME"},
		{Name: "from", Type: NodeRef, RefType: "erm", Optional: true, Doc: "for a checkpoint erm: the training erm, erm.NAME"},
		nonNegative(Attr{Name: "checkpoint", Type: Int, Optional: true, Doc: "for a checkpoint erm: the training step whose weights are w*"}),
		{Name: "optimizer", Type: Object, Optional: true, Doc: "full-batch optimizer", Fields: optimizerFields()},
		nonNegative(Attr{Name: "steps", Type: Int, Optional: true, Doc: "full-batch training steps (default 2000)"}),
		atLeast(Attr{Name: "log_every", Type: Int, Optional: true, Doc: "steps between points of the training curve (default 10)"}, 1),
		{Name: "weights", Type: String, Optional: true,
			Doc: "a .npz or .safetensors file of trained weights to start from, relative to the HCL file; steps then default to 0, so the file's weights are w*"},
		{Name: "init", Type: String, Optional: true, Enum: []string{"model", "teacher"},
			Doc: "starting weights: \"model\" (the default) draws them by the model's init scheme, \"teacher\" copies the dataset's teacher, so that with steps = 0 the teacher is w*"},
		{Name: "loss", Type: String, Optional: true, Enum: lossKinds, Doc: "training loss, which samplers of this erm use too (default mse)"},
		positive(Attr{Name: "loss_df", Type: Number, Optional: true, Doc: "student_t loss: degrees of freedom ν (default 4)"}),
		positive(Attr{Name: "loss_scale", Type: Number, Optional: true, Doc: "student_t loss: scale s (default 1)"}),
		nonNegative(Attr{Name: "weight_decay", Type: Number, Optional: true, Doc: "α of the L2 penalty (α/2)·‖w‖² added to the training loss (default 0)"}),
		nonNegative(Attr{Name: "checkpoints", Type: IntList, Optional: true, Doc: "steps at which training saves its state for checkpoint erms"}),
		atLeast(Attr{Name: "num_checkpoints", Type: Int, Optional: true, Doc: "number of evenly spaced steps to save, instead of checkpoints"}, 1),
	}
}

type mlpParams struct {
	Kind         string `json:"kind"`
	Widths       []int  `json:"widths"`
	Depth        int    `json:"depth,omitempty"`
	Width        int    `json:"width,omitempty"`
	TargetParams int    `json:"target_params,omitempty"`
	Activation   string `json:"activation"`
	Bias         bool   `json:"bias"`
	Init         string `json:"init"`
}

// checkMLP accepts widths alone, or depth with width or target_params; the
// last two forms take the input and output widths from the data. It
// rejects a model whose buffers would not fit maxNodeBytes.
func checkMLP(params map[string]any) []dsl.FieldError {
	var p mlpParams
	if err := decode(params, &p); err != nil {
		return []dsl.FieldError{{Summary: "Invalid value", Detail: err.Error()}}
	}
	invalid := func(attr, format string, args ...any) []dsl.FieldError {
		return []dsl.FieldError{{Attr: attr, Summary: "Invalid value", Detail: fmt.Sprintf(format, args...)}}
	}
	switch {
	case p.Widths != nil && (p.Depth != 0 || p.Width != 0 || p.TargetParams != 0):
		return invalid("widths", "Give either widths or depth with width or target_params, not both.")
	case p.Widths != nil && len(p.Widths) < 2:
		return invalid("widths", "widths needs at least an input and an output width, got %v.", p.Widths)
	case p.Widths != nil:
		return checkModelSize(p)
	case p.Depth == 0:
		return []dsl.FieldError{{Summary: "Missing required argument",
			Detail: "A model needs widths = [in, ..., out], or depth with width or target_params."}}
	case (p.Width == 0) == (p.TargetParams == 0):
		return invalid("depth", "With depth, give exactly one of width (the hidden width) and target_params (a parameter count).")
	}
	return checkModelSize(p)
}

type optimizerParams struct {
	Kind  string  `json:"kind"`
	LR    float64 `json:"lr"`
	Beta1 float64 `json:"beta1"`
	Beta2 float64 `json:"beta2"`
	Eps   float64 `json:"eps"`
}

// lossParams is a loss as params and result.json hold it.
type lossParams struct {
	Kind  string  `json:"kind"`
	DF    float64 `json:"df,omitempty"`
	Scale float64 `json:"scale,omitempty"`
}

func (l lossParams) loss() models.Loss {
	kind := l.Kind
	if kind == "" {
		kind = "mse"
	}
	return models.Loss{Kind: kind, DF: l.DF, Scale: l.Scale}
}

type ermParams struct {
	Model          mlpParams       `json:"model"`
	Optimizer      optimizerParams `json:"optimizer"`
	Steps          int             `json:"steps"`
	LogEvery       int             `json:"log_every"`
	Init           string          `json:"init"`
	Loss           string          `json:"loss"`
	LossDF         float64         `json:"loss_df"`
	LossScale      float64         `json:"loss_scale"`
	WeightDecay    float64         `json:"weight_decay"`
	Checkpoints    []int           `json:"checkpoints"`
	Checkpoint     *int            `json:"checkpoint"`
	NumCheckpoints int             `json:"num_checkpoints"`
	WeightsSHA256  string          `json:"weights_sha256"`
	WeightsFormat  string          `json:"weights_format"`
}

func (p ermParams) loss() lossParams {
	if p.Loss == "" {
		return lossParams{Kind: "mse"}
	}
	return lossParams{Kind: p.Loss, DF: p.LossDF, Scale: p.LossScale}
}

// trainSettings are the settings of a training run that a checkpoint erm
// needs to replay part of it.
type trainSettings struct {
	Optimizer   optimizerParams `json:"optimizer"`
	Steps       int             `json:"steps"`
	LogEvery    int             `json:"log_every"`
	WeightDecay float64         `json:"weight_decay"`
}

func (s trainSettings) config() models.TrainConfig {
	o := s.Optimizer
	return models.TrainConfig{
		Optimizer: o.Kind, LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps,
		Steps: s.Steps, LogEvery: s.LogEvery, WeightDecay: s.WeightDecay,
	}
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
	// Init is "model", "teacher" or "weights" (a weights file), the
	// starting weights.
	Init string `json:"init"`
	// LambdaTrue is the learning coefficient λ of the model at the
	// dataset's teacher when it is known in closed form (a linear
	// teacher of known rank and a bias-free identity model that can
	// realize it), and null otherwise. LambdaMultiplicity is its
	// multiplicity m where known, else null.
	LambdaTrue         any `json:"lambda_true"`
	LambdaMultiplicity any `json:"lambda_multiplicity"`
	// Loss is the training loss, which defines the sampler's potential.
	Loss lossParams `json:"loss"`
	// Accuracy is the fraction of correct predictions at w* for the
	// classification losses, and null otherwise.
	Accuracy any `json:"accuracy"`
	// Train holds the settings of a training erm, which checkpoint erms
	// replay from.
	Train *trainSettings `json:"train,omitempty"`
	// Checkpoints are the training states a training erm saved.
	Checkpoints []savedState `json:"checkpoints,omitempty"`
	// Checkpoint is the training step of a checkpoint erm's w*, and
	// TrainedRunID the run id of the training erm it comes from.
	Checkpoint   *int   `json:"checkpoint,omitempty"`
	TrainedRunID string `json:"trained_run_id,omitempty"`
}

// checkERM checks a checkpoint erm (one with from) or a training erm, whose
// weights file is relative to dir.
func checkERM(dir string, params map[string]any) []dsl.FieldError {
	if errs := checkWholeNumbers(ermAttrs(), params, ""); errs != nil {
		return errs
	}
	if _, ok := params["from"]; ok {
		return checkCheckpointERM(params)
	}
	if errs := checkTrainingERM(params); errs != nil {
		return errs
	}
	return checkWeightsFile(dir, params)
}

// checkTrainingERM fills in the defaults of a training erm, drops the
// options whose value means the same as their absence (init = "model",
// loss = "mse", weight_decay = 0) so that both spellings give one key,
// and turns num_checkpoints into the list of steps it stands for.
func checkTrainingERM(params map[string]any) []dsl.FieldError {
	var errs []dsl.FieldError
	for _, name := range []string{"dataset", "model"} {
		if _, ok := params[name]; !ok {
			errs = append(errs, dsl.FieldError{Summary: "Missing required argument",
				Detail: fmt.Sprintf("A training erm needs %s = %s.NAME (or from = erm.NAME and checkpoint for a checkpoint of another erm).", name, name)})
		}
	}
	if _, ok := params["checkpoint"]; ok {
		errs = append(errs, dsl.FieldError{Attr: "checkpoint", Summary: "Unsupported argument",
			Detail: "checkpoint selects a step of another erm's training; add from = erm.NAME, or remove it."})
	}
	if len(errs) > 0 {
		return errs
	}

	if _, ok := params["optimizer"]; !ok {
		params["optimizer"], _ = normalizeAttrs(optimizerFields(), map[string]any{}, "optimizer.")
	}
	if _, ok := params["weights"]; ok {
		if _, ok := params["init"]; ok {
			return []dsl.FieldError{{Attr: "init", Summary: "Conflicting arguments",
				Detail: "weights sets the starting weights, so init does not apply; remove one of them."}}
		}
		setDefault(params, "steps", 0.0)
	}
	setDefault(params, "steps", 2000.0)
	setDefault(params, "log_every", 10.0)
	dropValue(params, "init", "model")
	dropValue(params, "loss", "mse")
	dropValue(params, "weight_decay", 0.0)
	loss, _ := params["loss"].(string)
	if loss == "" {
		loss = "mse"
	}
	if errs := selectOptions(params, "loss", loss, lossOptions, ""); errs != nil {
		return errs
	}
	return checkCheckpointSteps(params)
}

func setDefault(params map[string]any, name string, v any) {
	if _, ok := params[name]; !ok {
		params[name] = v
	}
}

func dropValue(params map[string]any, name string, v any) {
	if params[name] == v {
		delete(params, name)
	}
}

// maxCheckpoints bounds the saved training states of one erm. Each is a
// file of up to 3·d float64 and an entry in result.json, and a checkpoint
// erm replays at most the steps between two of them, so more than one
// state per ten-thousandth of training saves little replay time.
const maxCheckpoints = 10000

// checkCheckpointSteps checks the checkpoint steps against steps, sorts
// them, and replaces num_checkpoints = N by the steps round(i·steps/N),
// i = 1..N. It checks the count against steps and maxCheckpoints before
// it builds the list.
func checkCheckpointSteps(params map[string]any) []dsl.FieldError {
	steps := int(params["steps"].(float64))
	list, hasList := params["checkpoints"].([]any)
	count, hasCount := params["num_checkpoints"].(float64)

	if hasList && hasCount {
		return []dsl.FieldError{{Attr: "num_checkpoints", Summary: "Conflicting arguments",
			Detail: "Give checkpoints (a list of steps) or num_checkpoints (a count of evenly spaced steps), not both."}}
	}
	if errs := checkCheckpointCount(count, len(list), hasCount, steps); errs != nil {
		return errs
	}
	var saved []int
	switch {
	case hasCount:
		for i := 1; i <= int(count); i++ {
			saved = append(saved, (i*steps+int(count)/2)/int(count))
		}
		delete(params, "num_checkpoints")
	case hasList:
		for _, v := range list {
			s := int(v.(float64))
			if s > steps {
				return []dsl.FieldError{{Attr: "checkpoints", Summary: "Invalid value",
					Detail: fmt.Sprintf("checkpoint step %d is after the last training step %d.", s, steps)}}
			}
			saved = append(saved, s)
		}
	default:
		return nil
	}

	sort.Ints(saved)
	saved = slicesCompact(saved)
	canonical := make([]any, len(saved))
	for i, s := range saved {
		canonical[i] = float64(s)
	}
	params["checkpoints"] = canonical
	return nil
}

// checkCheckpointCount rejects num_checkpoints = count above steps or
// maxCheckpoints, and a checkpoints list of more than maxCheckpoints
// steps. count stays a float64 so that a huge value does not overflow.
func checkCheckpointCount(count float64, listLen int, hasCount bool, steps int) []dsl.FieldError {
	tooMany := func(attr, given string) []dsl.FieldError {
		return []dsl.FieldError{{Attr: attr, Summary: "Too many checkpoints",
			Detail: fmt.Sprintf("%s saves more than the limit of %d training states per erm. Lower %s.",
				given, maxCheckpoints, attr)}}
	}
	switch {
	case hasCount && count > float64(steps):
		return []dsl.FieldError{{Attr: "num_checkpoints", Summary: "Invalid value",
			Detail: fmt.Sprintf("num_checkpoints %.0f exceeds steps %d; at most one checkpoint per step fits. Lower num_checkpoints to at most %d.",
				count, steps, steps)}}
	case hasCount && count > maxCheckpoints:
		return tooMany("num_checkpoints", fmt.Sprintf("num_checkpoints = %.0f", count))
	case listLen > maxCheckpoints:
		return tooMany("checkpoints", fmt.Sprintf("A checkpoints list of %d steps", listLen))
	}
	return nil
}

func slicesCompact(s []int) []int {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func runERM(ctx context.Context, rc *RunContext) error {
	if _, ok := rc.Inputs["from"]; ok {
		return runCheckpointERM(ctx, rc)
	}
	var p ermParams
	if err := decode(rc.Params, &p); err != nil {
		return err
	}
	dataDir := rc.Inputs["dataset"]
	data, err := loadDataset(dataDir)
	if err != nil {
		return err
	}
	loss := p.loss()
	if loss.Kind == "cross_entropy" && data.result.Classes == 0 {
		return fmt.Errorf("the cross_entropy loss needs class labels, but dataset run %s holds none; %s",
			filepath.Base(dataDir), classesAdvice)
	}
	mlp, err := newModel(p.Model, data.result.InDim, modelOutDim(data.result, loss))
	if err != nil {
		return err
	}
	w, err := initialWeights(rc, p, mlp, dataDir, data.result)
	if err != nil {
		return err
	}
	pot, err := models.NewSupervised(mlp, data.x, data.y, data.n, loss.loss())
	if err != nil {
		return fmt.Errorf("dataset run %s with the %s loss: %w", filepath.Base(dataDir), loss.Kind, err)
	}

	settings := trainSettings{Optimizer: p.Optimizer, Steps: p.Steps, LogEvery: p.LogEvery, WeightDecay: p.WeightDecay}
	saver := &stateSaver{dir: rc.Dir, pot: pot}
	accuracy := map[int]float64{}
	hooks := models.TrainHooks{
		Progress: func(done, total int) {
			if rc.Progress != nil && total > 0 {
				rc.Progress(float64(done)/float64(total), fmt.Sprintf("step %d/%d", done, total))
			}
		},
		Record: func(step int, w []float64) {
			if acc, ok := pot.Accuracy(w); ok {
				accuracy[step] = acc
			}
		},
		SaveAt: saveSteps(p.Checkpoints),
		Save:   saver.save,
	}
	res, err := models.Train(ctx, pot.NewEvaluator(), w, settings.config(), hooks)
	if err != nil {
		return err
	}
	if err := npy.Write(filepath.Join(rc.Dir, fileWeights), []int{len(w)}, w); err != nil {
		return err
	}
	if err := writeCurve(rc.Dir, res.Curve, accuracy); err != nil {
		return err
	}

	notMin := res.GradNorm > gradNormWarning
	fmt.Fprintf(rc.Log, "trained %d parameters for %d steps: L_n(w*) = %g, |grad| = %g\n",
		len(w), p.Steps, res.FinalLoss, res.GradNorm)
	if notMin {
		fmt.Fprintf(rc.Log, "warning: gradient norm %g at w* exceeds %g, so w* is not a minimum and LLC estimates may come out negative; %s\n",
			res.GradNorm, gradNormWarning, notMinimumAdvice(p))
	}
	lambda, mult := lambdaTrue(data.result, mlp, initName(p) == "teacher")
	model := p.Model
	model.Widths = mlp.Widths
	return writeJSON(rc.Dir, "result.json", ermResult{
		DatasetRunID: filepath.Base(dataDir),
		Model:        model, D: len(w), N: data.n, Steps: p.Steps,
		FinalLoss: finite(res.FinalLoss), GradNorm: finite(res.GradNorm), NotMinimum: notMin,
		Init: initName(p), LambdaTrue: lambda, LambdaMultiplicity: mult,
		Loss: loss, Accuracy: accuracyAt(pot, w), Train: &settings, Checkpoints: saver.saved,
	})
}

// notMinimumAdvice returns what to do about a w* that is not a minimum.
// With steps = 0 nothing was trained, so w* is the starting point itself.
func notMinimumAdvice(p ermParams) string {
	if p.Steps > 0 {
		return "train longer or raise the learning rate"
	}
	switch initName(p) {
	case "weights":
		return "nothing was trained, so set steps to train from the file's weights, or check the file"
	case "teacher":
		return "nothing was trained, so set steps to train from the teacher's weights"
	}
	return "nothing was trained, so set steps"
}

// classesAdvice tells how to give a file dataset class labels.
const classesAdvice = "set classes = K on the dataset block when Y holds the labels 0 … K−1, one per row; for one-hot Y, save the labels y.argmax(axis=1) instead"

// modelOutDim returns the output width a model needs for the data: one
// logit per class for cross_entropy, the width of Y otherwise.
func modelOutDim(res *datasetResult, loss lossParams) int {
	if loss.Kind == "cross_entropy" && res.Classes > 0 {
		return res.Classes
	}
	return res.OutDim
}

// accuracyAt returns the accuracy at w, or nil for a regression loss.
func accuracyAt(pot *models.Supervised, w []float64) any {
	if acc, ok := pot.Accuracy(w); ok {
		return acc
	}
	return nil
}

// writeCurve writes curve.csv: step,loss and, when accuracy has values,
// an accuracy column.
func writeCurve(dir string, curve []models.CurvePoint, accuracy map[int]float64) error {
	var b strings.Builder
	b.WriteString("step,loss")
	if len(accuracy) > 0 {
		b.WriteString(",accuracy")
	}
	b.WriteString("\n")
	for _, pt := range curve {
		b.WriteString(strconv.Itoa(pt.Step) + "," + strconv.FormatFloat(pt.Loss, 'g', -1, 64))
		if len(accuracy) > 0 {
			b.WriteString("," + strconv.FormatFloat(accuracy[pt.Step], 'g', -1, 64))
		}
		b.WriteString("\n")
	}
	return writeFile(dir, fileCurve, []byte(b.String()))
}

func initName(p ermParams) string {
	switch {
	case p.WeightsSHA256 != "":
		return "weights"
	case p.Init == "":
		return "model"
	}
	return p.Init
}

// initialWeights returns the weights training starts from: drawn by the
// model's init scheme, the dataset's teacher, or a weights file.
func initialWeights(rc *RunContext, p ermParams, mlp *models.MLP, dataDir string, dataRes *datasetResult) ([]float64, error) {
	if p.WeightsSHA256 != "" {
		return loadWeightsFile(p.WeightsSHA256, p.WeightsFormat, mlp)
	}
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
// A model given by depth gets the input and output widths of the data and
// a hidden width from width or target_params.
func newModel(p mlpParams, inDim, outDim int) (*models.MLP, error) {
	w := p.Widths
	if len(w) == 0 {
		h := p.Width
		if h == 0 {
			h = models.TargetParams(inDim, outDim, p.Depth, p.TargetParams, p.Bias)
		}
		w = []int{inDim}
		for range p.Depth {
			w = append(w, h)
		}
		w = append(w, outDim)
	}
	if w[0] != inDim || w[len(w)-1] != outDim {
		return nil, fmt.Errorf("model widths %v do not fit the dataset: the first width must be the input dimension %d and the last the output dimension %d", w, inDim, outDim)
	}
	return models.NewMLP(w, p.Activation, p.Bias)
}
