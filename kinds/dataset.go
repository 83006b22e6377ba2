package kinds

import (
	"context"
	"fmt"
	"path/filepath"

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
	register(&Kind{
		Type:    "dataset",
		Name:    "teacher_student",
		Version: "teacher_student/1",
		Attrs: []Attr{
			atLeast(Attr{Name: "n", Type: Int, Default: 1000.0, Doc: "number of data points"}, 1),
			atLeast(Attr{Name: "in_dim", Type: Int, Doc: "input dimension"}, 1),
			{Name: "x_dist", Type: String, Default: "gauss_iso", Enum: []string{"gauss_iso"},
				Doc: "input distribution"},
			{Name: "teacher", Type: Object, Doc: "the teacher network", Fields: []Attr{
				atLeast(Attr{Name: "widths", Type: IntList, Doc: "layer widths, input first"}, 1),
				{Name: "activation", Type: String, Default: "tanh", Enum: activations},
				{Name: "bias", Type: Bool, Default: false, Doc: "biases (initialized to zero)"},
				{Name: "init", Type: String, Default: "he", Enum: []string{"he", "xavier"}},
			}},
			{Name: "noise", Type: Object, Doc: "label noise", Fields: []Attr{
				{Name: "kind", Type: String, Default: "gauss", Enum: []string{"gauss"}},
				nonNegative(Attr{Name: "scale", Type: Number, Default: 0.1, Doc: "noise standard deviation"}),
			}},
			{Name: "seed", Type: Int, Default: 0.0, Doc: "seed; it enters the key, which seeds the generator"},
		},
		Check: checkTeacherStudent,
		Run:   runTeacherStudent,
	})
}

type teacherStudentParams struct {
	N       int    `json:"n"`
	InDim   int    `json:"in_dim"`
	XDist   string `json:"x_dist"`
	Teacher struct {
		Widths     []int  `json:"widths"`
		Activation string `json:"activation"`
		Bias       bool   `json:"bias"`
		Init       string `json:"init"`
	} `json:"teacher"`
	Noise struct {
		Kind  string  `json:"kind"`
		Scale float64 `json:"scale"`
	} `json:"noise"`
}

func checkTeacherStudent(params map[string]any) []dsl.FieldError {
	var p teacherStudentParams
	if err := decode(params, &p); err != nil {
		return []dsl.FieldError{{Summary: "Invalid value", Detail: err.Error()}}
	}
	w := p.Teacher.Widths
	if len(w) < 2 {
		return []dsl.FieldError{{Attr: "teacher", Summary: "Invalid value",
			Detail: fmt.Sprintf("teacher.widths needs at least an input and an output width, got %v.", w)}}
	}
	if w[0] != p.InDim {
		return []dsl.FieldError{{Attr: "teacher", Summary: "Invalid value",
			Detail: fmt.Sprintf("teacher.widths starts with %d but in_dim is %d; the first width is the input width.", w[0], p.InDim)}}
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
		N: p.N, InDim: p.InDim, Inputs: datasets.Inputs{Dist: p.XDist},
		Teacher: *teacher, TeacherInit: p.Teacher.Init,
		Noise: datasets.Noise{Kind: p.Noise.Kind, Scale: p.Noise.Scale},
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
}

// teacherInfo is the MLP whose parameter vector teacher.npy holds.
type teacherInfo struct {
	Widths     []int  `json:"widths"`
	Activation string `json:"activation"`
	Bias       bool   `json:"bias"`
}

// syntheticData is what a synthetic dataset node writes.
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

// readDatasetResult reads a dataset run's result.json.
func readDatasetResult(dir string) (*datasetResult, error) {
	var res datasetResult
	if err := readJSON(filepath.Join(dir, "result.json"), &res); err != nil {
		return nil, fmt.Errorf("read dataset result: %w", err)
	}
	return &res, nil
}

// readDataset loads X and Y from a dataset run directory.
func readDataset(dir string) (x, y []float64, n, inDim, outDim int, err error) {
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
