package kinds

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/llcflow/llcflow/datasets"
	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/models"
	"github.com/llcflow/llcflow/npy"
	"github.com/llcflow/llcflow/rng"
)

// Output files of dataset nodes: inputs X (n × in_dim), targets Y
// (n × out_dim) and, for synthetic data, the teacher's weights.
const (
	fileX       = "x.npy"
	fileY       = "y.npy"
	fileTeacher = "teacher.npy"
)

var activations = []string{"relu", "tanh", "gelu", "identity"}

func init() {
	register(checkingWholeNumbers(&Kind{
		Type:    "dataset",
		Name:    "teacher_student",
		Version: "teacher_student/1",
		Attrs: append([]Attr{
			atLeast(Attr{Name: "n", Type: Int, Default: 1000.0, Doc: "number of data points"}, 1),
			atLeast(Attr{Name: "in_dim", Type: Int, Doc: "input dimension"}, 1),
			{Name: "teacher", Type: Object, Doc: "the teacher network", Fields: []Attr{
				atLeast(Attr{Name: "widths", Type: IntList, Doc: "layer widths, input first"}, 1),
				{Name: "activation", Type: String, Default: "tanh", Enum: activations},
				{Name: "bias", Type: Bool, Default: false, Doc: "biases (initialized to zero)"},
				{Name: "init", Type: String, Default: "he", Enum: []string{"he", "xavier"}},
			}},
			noiseAttr(0.1),
			{Name: "seed", Type: Int, Default: 0.0, Doc: "seed; it enters the key, which seeds the generator"},
		}, inputAttrs()...),
		Check: checkTeacherStudent,
		Run:   runTeacherStudent,
	}))
}

// inputAttrs returns x_dist and the options of its distributions. An
// option is accepted only with the distribution it belongs to, and there
// checkInputs fills in its default, so that the key of a data set holds
// exactly the settings that determine it.
func inputAttrs() []Attr {
	return []Attr{
		{Name: "x_dist", Type: String, Default: "gauss_iso", Enum: datasets.InputDists, Doc: "input distribution"},
		{Name: "cov_decay", Type: Number, Optional: true, Min: ptr(0), MinExcl: true, Max: ptr(1),
			Doc: "gauss_aniso: coordinate j has variance cov_decay^j (default 0.8)"},
		atLeast(Attr{Name: "components", Type: Int, Optional: true, Doc: "mixture: number of components (default 4)"}, 1),
		nonNegative(Attr{Name: "spread", Type: Number, Optional: true, Doc: "mixture: standard deviation of the component means (default 2)"}),
		atLeast(Attr{Name: "latent_dim", Type: Int, Optional: true, Doc: "lowdim_manifold: dimension of the input subspace (default 2, or in_dim if smaller)"}, 1),
		atLeast(Attr{Name: "tail_df", Type: Int, Optional: true, Doc: "heavy_tail: degrees of freedom of the multivariate Student-t (default 3)"}, 1),
	}
}

// inputOptions are the defaults of the options of each input distribution.
var inputOptions = map[string]map[string]any{
	"gauss_iso":       {},
	"gauss_aniso":     {"cov_decay": 0.8},
	"mixture":         {"components": 4.0, "spread": 2.0},
	"lowdim_manifold": {"latent_dim": 2.0},
	"heavy_tail":      {"tail_df": 3.0},
}

// noiseAttr returns the noise object with the given default scale.
func noiseAttr(scale float64) Attr {
	return Attr{Name: "noise", Type: Object, Doc: "label noise", Fields: []Attr{
		{Name: "kind", Type: String, Default: "gauss", Enum: datasets.NoiseKinds},
		nonNegative(Attr{Name: "scale", Type: Number, Default: scale, Doc: "noise scale σ (the standard deviation for gauss)"}),
		nonNegative(Attr{Name: "hetero", Type: Number, Optional: true, Doc: "hetero: σ grows as σ·(1 + hetero·‖x‖/√in_dim) (default 1)"}),
		atLeast(Attr{Name: "df", Type: Int, Optional: true, Doc: "student_t: degrees of freedom (default 4)"}, 1),
		{Name: "outlier_frac", Type: Number, Optional: true, Min: ptr(0), Max: ptr(1), Doc: "outliers: probability that a row is an outlier (default 0.05)"},
		nonNegative(Attr{Name: "outlier_scale", Type: Number, Optional: true, Doc: "outliers: noise standard deviation of outlier rows (default 1)"}),
	}}
}

// noiseOptions are the defaults of the options of each noise kind.
var noiseOptions = map[string]map[string]any{
	"gauss":     {},
	"hetero":    {"hetero": 1.0},
	"student_t": {"df": 4.0},
	"outliers":  {"outlier_frac": 0.05, "outlier_scale": 1.0},
}

// selectOptions fills in the defaults of the options that belong to
// choice, the value of the attribute named selector, and rejects the
// options of other choices. attr names the top-level attribute that
// errors point at; "" points each error at its option.
func selectOptions(params map[string]any, selector, choice string, options map[string]map[string]any, attr string) []dsl.FieldError {
	var errs []dsl.FieldError
	var names []string
	for _, opts := range options {
		for name := range opts {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		def, ok := options[choice][name]
		_, present := params[name]
		switch {
		case ok && !present:
			params[name] = def
		case !ok && present:
			at := attr
			if at == "" {
				at = name
			}
			errs = append(errs, dsl.FieldError{Attr: at, Summary: "Unsupported argument",
				Detail: fmt.Sprintf("%s applies only to %s = %q, not %q; remove it.", name, selector, owner(options, name), choice)})
		}
	}
	return errs
}

// owner returns the choice whose options include name.
func owner(options map[string]map[string]any, name string) string {
	for choice, opts := range options {
		if _, ok := opts[name]; ok {
			return choice
		}
	}
	return ""
}

// checkInputs fills in and checks the options of x_dist for inputs of
// dimension inDim.
func checkInputs(params map[string]any, inDim int) []dsl.FieldError {
	dist, _ := params["x_dist"].(string)
	if _, ok := params["latent_dim"]; !ok && dist == "lowdim_manifold" {
		// The default subspace dimension 2 fits inputs of any dimension.
		params["latent_dim"] = float64(min(2, inDim))
	}
	errs := selectOptions(params, "x_dist", dist, inputOptions, "")
	if len(errs) > 0 {
		return errs
	}
	if dist == "lowdim_manifold" {
		if k, _ := params["latent_dim"].(float64); int(k) > inDim {
			return []dsl.FieldError{{Attr: "latent_dim", Summary: "Invalid value",
				Detail: fmt.Sprintf("latent_dim %d exceeds the input dimension %d; the inputs lie on a subspace of at most in_dim dimensions.", int(k), inDim)}}
		}
	}
	return nil
}

// checkNoise fills in and checks the options of the noise kind.
func checkNoise(params map[string]any) []dsl.FieldError {
	noise, _ := params["noise"].(map[string]any)
	kind, _ := noise["kind"].(string)
	return selectOptions(noise, "noise.kind", kind, noiseOptions, "noise")
}

// inputParams are the JSON fields of inputAttrs.
type inputParams struct {
	XDist      string  `json:"x_dist"`
	CovDecay   float64 `json:"cov_decay"`
	Components int     `json:"components"`
	Spread     float64 `json:"spread"`
	LatentDim  int     `json:"latent_dim"`
	TailDF     int     `json:"tail_df"`
}

func (p inputParams) inputs() datasets.Inputs {
	return datasets.Inputs{Dist: p.XDist, CovDecay: p.CovDecay, Components: p.Components,
		Spread: p.Spread, LatentDim: p.LatentDim, DF: p.TailDF}
}

// noiseParams are the JSON fields of noiseAttr.
type noiseParams struct {
	Kind         string  `json:"kind"`
	Scale        float64 `json:"scale"`
	Hetero       float64 `json:"hetero"`
	DF           int     `json:"df"`
	OutlierFrac  float64 `json:"outlier_frac"`
	OutlierScale float64 `json:"outlier_scale"`
}

func (p noiseParams) noise() datasets.Noise {
	return datasets.Noise{Kind: p.Kind, Scale: p.Scale, Hetero: p.Hetero, DF: p.DF,
		OutlierFrac: p.OutlierFrac, OutlierScale: p.OutlierScale}
}

// teacherParams are the JSON fields of a teacher object.
type teacherParams struct {
	Widths     []int  `json:"widths"`
	Activation string `json:"activation"`
	Bias       bool   `json:"bias"`
	Init       string `json:"init"`
}

type teacherStudentParams struct {
	inputParams
	N       int           `json:"n"`
	InDim   int           `json:"in_dim"`
	Teacher teacherParams `json:"teacher"`
	Noise   noiseParams   `json:"noise"`
}

func checkTeacherStudent(params map[string]any) []dsl.FieldError {
	var p teacherStudentParams
	if err := decode(params, &p); err != nil {
		return []dsl.FieldError{{Summary: "Invalid value", Detail: err.Error()}}
	}
	if errs := checkTeacher(p.Teacher, p.InDim); errs != nil {
		return errs
	}
	if errs := checkDataSize(p.N, p.InDim, p.Teacher.Widths[len(p.Teacher.Widths)-1]); errs != nil {
		return errs
	}
	return append(checkInputs(params, p.InDim), checkNoise(params)...)
}

// checkTeacher checks a teacher network's widths against in_dim, then its
// size.
func checkTeacher(t teacherParams, inDim int) []dsl.FieldError {
	if errs := checkTeacherWidths(t.Widths, inDim); errs != nil {
		return errs
	}
	return checkTeacherSize(t.Widths, t.Bias, "teacher")
}

// checkTeacherSize rejects a teacher network whose buffers would exceed
// maxNodeBytes by the estimate of a student model of the same widths,
// because init = "teacher" trains such a student. attr names the
// attribute that sets the widths.
func checkTeacherSize(w []int, bias bool, attr string) []dsl.FieldError {
	s := sizeOfWidths(w, bias)
	detail := modelTooLarge(s, fmt.Sprintf("The teacher's widths %v give d = %.0f parameters", w, s.params))
	if detail == "" {
		return nil
	}
	return []dsl.FieldError{{Attr: attr, Summary: "Model too large", Detail: detail}}
}

// checkTeacherWidths checks that a teacher's widths start with in_dim.
func checkTeacherWidths(w []int, inDim int) []dsl.FieldError {
	if len(w) < 2 {
		return []dsl.FieldError{{Attr: "teacher", Summary: "Invalid value",
			Detail: fmt.Sprintf("teacher.widths needs at least an input and an output width, got %v.", w)}}
	}
	if w[0] != inDim {
		return []dsl.FieldError{{Attr: "teacher", Summary: "Invalid value",
			Detail: fmt.Sprintf("teacher.widths starts with %d but in_dim is %d; the first width is the input width.", w[0], inDim)}}
	}
	return nil
}

func runTeacherStudent(ctx context.Context, rc *RunContext) error {
	var p teacherStudentParams
	if err := decode(rc.Params, &p); err != nil {
		return err
	}
	teacher, err := models.NewMLP(p.Teacher.Widths, p.Teacher.Activation, p.Teacher.Bias)
	if err != nil {
		return fmt.Errorf("teacher: %w", err)
	}
	gen := datasets.TeacherStudent{
		N: p.N, InDim: p.InDim, Inputs: p.inputs(),
		Teacher: *teacher, TeacherInit: p.Teacher.Init, Noise: p.Noise.noise(),
	}
	x, y, teacherW, err := gen.Generate(rng.New(rc.Key, "dataset", 0))
	if err != nil {
		return err
	}
	return writeSynthetic(rc, syntheticData{
		x: x, y: y, n: p.N, teacherW: teacherW,
		result: datasetResult{
			InDim: p.InDim, OutDim: p.Teacher.Widths[len(p.Teacher.Widths)-1],
			Teacher: &teacherInfo{Widths: teacher.Widths, Activation: teacher.Activation, Bias: teacher.Bias},
		},
	})
}

// datasetResult is a dataset node's result.json. Erm nodes read it back.
type datasetResult struct {
	N      int `json:"n"`
	InDim  int `json:"in_dim"`
	OutDim int `json:"out_dim"`
	// TeacherParams is the length of teacher.npy, 0 without a teacher.
	TeacherParams int `json:"teacher_params"`
	// Teacher is the architecture of teacher.npy, nil without a teacher.
	Teacher *teacherInfo `json:"teacher,omitempty"`
	// TrueRank is the rank r of the product of a linear teacher's
	// matrices, which with the student's widths gives the learning
	// coefficient (see lambdaTrue).
	TrueRank *int `json:"true_rank,omitempty"`
	// TeacherForm is "most_singular" when a linear teacher's factors were
	// refactored to rank r each, and empty for the generic teacher.
	TeacherForm string `json:"teacher_form,omitempty"`
	// Classes is the number of classes K of a data set whose Y holds class
	// labels in [0, K), and 0 for regression targets.
	Classes int `json:"classes,omitempty"`
	// ContentSHA256 maps each path attribute of a file dataset to the
	// SHA-256 of the file it named.
	ContentSHA256 map[string]string `json:"content_sha256,omitempty"`
}

// teacherInfo is the MLP whose parameter vector teacher.npy holds.
type teacherInfo struct {
	Widths     []int  `json:"widths"`
	Activation string `json:"activation"`
	Bias       bool   `json:"bias"`
}

// syntheticData holds the arrays and result of a synthetic dataset node.
type syntheticData struct {
	x, y, teacherW []float64
	n              int
	result         datasetResult
}

// writeSynthetic writes x.npy, y.npy, teacher.npy and result.json.
func writeSynthetic(rc *RunContext, d syntheticData) error {
	res := d.result
	res.N = d.n
	res.TeacherParams = len(d.teacherW)
	if err := npy.Write(filepath.Join(rc.Dir, fileX), []int{d.n, res.InDim}, d.x); err != nil {
		return err
	}
	if err := npy.Write(filepath.Join(rc.Dir, fileY), []int{d.n, res.OutDim}, d.y); err != nil {
		return err
	}
	if err := npy.Write(filepath.Join(rc.Dir, fileTeacher), []int{len(d.teacherW)}, d.teacherW); err != nil {
		return err
	}
	fmt.Fprintf(rc.Log, "generated %d points, in_dim %d, out_dim %d, teacher with %d parameters\n",
		d.n, res.InDim, res.OutDim, len(d.teacherW))
	return writeJSON(rc.Dir, "result.json", res)
}

// dataset is a dataset run's arrays and result.
type dataset struct {
	x, y   []float64
	n      int
	result *datasetResult
}

// loadDataset reads the arrays and result of a dataset run.
func loadDataset(dir string) (*dataset, error) {
	res, err := readDatasetResult(dir)
	if err != nil {
		return nil, err
	}
	x, y, n, inDim, outDim, err := readArrays(dir)
	if err != nil {
		return nil, err
	}
	if inDim != res.InDim || outDim != res.OutDim || n != res.N {
		return nil, fmt.Errorf("dataset %s: arrays of %d × %d and %d × %d disagree with result.json (n %d, in_dim %d, out_dim %d)",
			dir, n, inDim, n, outDim, res.N, res.InDim, res.OutDim)
	}
	return &dataset{x: x, y: y, n: n, result: res}, nil
}

// readDatasetResult reads a dataset run's result.json.
func readDatasetResult(dir string) (*datasetResult, error) {
	var res datasetResult
	if err := readJSON(filepath.Join(dir, "result.json"), &res); err != nil {
		return nil, fmt.Errorf("read dataset result: %w", err)
	}
	return &res, nil
}

// readDataset loads X and Y from a dataset run directory for a regression
// potential. It rejects class labels, which need the loss that loadTrained
// reads from the erm.
func readDataset(dir string) (x, y []float64, n, inDim, outDim int, err error) {
	res, err := readDatasetResult(dir)
	if err != nil {
		return nil, nil, 0, 0, 0, err
	}
	if res.Classes > 0 {
		return nil, nil, 0, 0, 0, fmt.Errorf("dataset %s holds class labels, which a mean-squared-error potential would misread; load the erm with loadTrained", dir)
	}
	return readArrays(dir)
}

// readArrays loads X and Y from a dataset run directory.
func readArrays(dir string) (x, y []float64, n, inDim, outDim int, err error) {
	xs, x, err := npy.Read(filepath.Join(dir, fileX))
	if err != nil {
		return nil, nil, 0, 0, 0, err
	}
	ys, y, err := npy.Read(filepath.Join(dir, fileY))
	if err != nil {
		return nil, nil, 0, 0, 0, err
	}
	if len(xs) != 2 || len(ys) != 2 || xs[0] != ys[0] {
		return nil, nil, 0, 0, 0, fmt.Errorf("dataset %s: X has shape %v and Y %v; want (n, in_dim) and (n, out_dim)", dir, xs, ys)
	}
	return x, y, xs[0], xs[1], ys[1], nil
}

// maxWhole is the largest magnitude of a whole-number attribute, 2^53: the
// largest integer that float64, the type of HCL numbers here, holds
// exactly, and well inside Go's int.
const maxWhole = 1 << 53

// maxDataBytes bounds the memory of a dataset's arrays,
// n × (in_dim + out_dim) × 8 bytes. It is a fixed 8 GiB rather than a
// share of this machine's memory, so that a file validates the same way on
// every machine. The erm and sampler nodes that read the dataset hold
// copies of it too.
const maxDataBytes = 8 << 30

// checkingWholeNumbers makes k's Check run checkWholeNumbers on k's
// schema first, so that no whole number reaches a Go int out of range,
// and returns k.
func checkingWholeNumbers(k *Kind) *Kind {
	if wholeNumbersChecked[k] {
		return k
	}
	wholeNumbersChecked[k] = true
	check := k.Check
	k.Check = func(params map[string]any) []dsl.FieldError {
		if errs := checkWholeNumbers(k.Attrs, params, ""); errs != nil {
			return errs
		}
		if check == nil {
			return nil
		}
		return check(params)
	}
	return k
}

// wholeNumbersChecked marks the kinds checkingWholeNumbers has wrapped, so
// that register can wrap every kind once.
var wholeNumbersChecked = map[*Kind]bool{}

// checkWholeNumbers rejects Int and IntList values of magnitude above
// maxWhole, in params and in its objects.
func checkWholeNumbers(attrs []Attr, params map[string]any, prefix string) []dsl.FieldError {
	var errs []dsl.FieldError
	tooLarge := func(a Attr, v any) {
		if f, ok := v.(float64); ok && math.Abs(f) > maxWhole {
			top := strings.SplitN(prefix+a.Name, ".", 2)[0]
			errs = append(errs, dsl.FieldError{Attr: top, Summary: "Invalid value",
				Detail: fmt.Sprintf("%s = %g is too large; whole numbers must be at most 2^53 = %d in magnitude.", prefix+a.Name, f, int64(maxWhole))})
		}
	}
	for _, a := range attrs {
		switch v := params[a.Name].(type) {
		case float64:
			if a.Type == Int {
				tooLarge(a, v)
			}
		case []any:
			if a.Type == IntList {
				for _, e := range v {
					tooLarge(a, e)
				}
			}
		case map[string]any:
			if a.Type == Object {
				errs = append(errs, checkWholeNumbers(a.Fields, v, prefix+a.Name+".")...)
			}
		}
	}
	return errs
}

// checkDataSize rejects a dataset whose arrays X (n × inDim) and Y
// (n × outDim) of float64 would take more than maxDataBytes.
func checkDataSize(n, inDim, outDim int) []dsl.FieldError {
	bytes := float64(n) * float64(inDim+outDim) * 8
	if bytes <= maxDataBytes {
		return nil
	}
	return []dsl.FieldError{{Attr: "n", Summary: "Dataset too large",
		Detail: fmt.Sprintf("n = %d points of in_dim %d and out_dim %d take n × (in_dim + out_dim) × 8 bytes = %.1f GiB, above the limit of %d GiB; lower n.",
			n, inDim, outDim, bytes/(1<<30), maxDataBytes>>30)}}
}
