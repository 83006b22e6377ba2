package models

import (
	"fmt"
	"math"
	"strconv"

	"github.com/llcflow/llcflow/rng"
)

// MLP is a fully connected network. Its fields are set by NewMLP, which
// validates them.
type MLP struct {
	// Widths are the layer widths, input first: at least two, each ≥ 1.
	Widths []int
	// Activation is the hidden-layer activation: relu, tanh, gelu or
	// identity. The output layer is linear.
	Activation string
	// Bias adds a bias vector to every layer.
	Bias bool
}

// ParamInfo is the location of one weight or bias array in the parameter
// vector.
type ParamInfo struct {
	// Name is "layers.<l>.weight" or "layers.<l>.bias", counting layers
	// from 0.
	Name string
	// Offset is the index of the array's first element in w.
	Offset int
	// Shape is [out, in] for a weight and [out] for a bias.
	Shape []int
}

// NewMLP returns a validated MLP with a copy of widths.
func NewMLP(widths []int, activation string, bias bool) (*MLP, error) {
	m := &MLP{Widths: append([]int(nil), widths...), Activation: activation, Bias: bias}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *MLP) validate() error {
	if len(m.Widths) < 2 {
		return fmt.Errorf("mlp widths %v: need at least an input and an output width", m.Widths)
	}
	for i, w := range m.Widths {
		if w < 1 {
			return fmt.Errorf("mlp widths %v: width %d is %d, want at least 1", m.Widths, i, w)
		}
	}
	if _, err := parseActivation(m.Activation); err != nil {
		return err
	}
	return nil
}

// NumLayers returns the number of dense layers, len(Widths) − 1.
func (m *MLP) NumLayers() int { return len(m.Widths) - 1 }

// NumParams returns d, the length of the parameter vector.
func (m *MLP) NumParams() int {
	d := 0
	for l := 1; l < len(m.Widths); l++ {
		d += m.Widths[l] * m.Widths[l-1]
		if m.Bias {
			d += m.Widths[l]
		}
	}
	return d
}

// Params lists the arrays of the parameter vector in order: for each layer
// l, its weight W_l (out × in, row-major) and then, with Bias, its bias b_l.
func (m *MLP) Params() []ParamInfo {
	var infos []ParamInfo
	offset := 0
	for l := 1; l < len(m.Widths); l++ {
		in, out := m.Widths[l-1], m.Widths[l]
		prefix := "layers." + strconv.Itoa(l-1)
		infos = append(infos, ParamInfo{Name: prefix + ".weight", Offset: offset, Shape: []int{out, in}})
		offset += out * in
		if m.Bias {
			infos = append(infos, ParamInfo{Name: prefix + ".bias", Offset: offset, Shape: []int{out}})
			offset += out
		}
	}
	return infos
}

// Init fills w with random weights and zero biases. Scheme "he" draws
// W_l from N(0, 2/in), "xavier" from N(0, 2/(in + out)). Weights are drawn
// layer by layer in the order of the parameter vector.
func (m *MLP) Init(w []float64, r *rng.Rand, scheme string) error {
	if err := m.validate(); err != nil {
		return err
	}
	if len(w) != m.NumParams() {
		return fmt.Errorf("init mlp %v: parameter vector has length %d, want %d", m.Widths, len(w), m.NumParams())
	}
	for _, p := range m.Params() {
		a := w[p.Offset : p.Offset+product(p.Shape)]
		if len(p.Shape) == 1 {
			clear(a)
			continue
		}
		out, in := p.Shape[0], p.Shape[1]
		var variance float64
		switch scheme {
		case "he":
			variance = 2 / float64(in)
		case "xavier":
			variance = 2 / float64(in+out)
		default:
			return fmt.Errorf("init scheme %q is not supported, want \"he\" or \"xavier\"", scheme)
		}
		std := math.Sqrt(variance)
		for i := range a {
			a[i] = std * r.Norm()
		}
	}
	return nil
}

// Predict returns the outputs f(x) for the n rows of x (n × Widths[0],
// row-major), as an n × Widths[last] row-major slice.
func (m *MLP) Predict(w, x []float64, n int) ([]float64, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	if len(w) != m.NumParams() {
		return nil, fmt.Errorf("predict mlp %v: parameter vector has length %d, want %d", m.Widths, len(w), m.NumParams())
	}
	if n < 0 || len(x) != n*m.Widths[0] {
		return nil, fmt.Errorf("predict mlp %v: x has length %d, want n·%d = %d", m.Widths, len(x), m.Widths[0], n*m.Widths[0])
	}
	net := newNetwork(m)
	out := m.Widths[len(m.Widths)-1]
	y := make([]float64, n*out)
	for start := 0; start < n; start += blockRows {
		rows := min(blockRows, n-start)
		copy(net.acts[0], x[start*m.Widths[0]:(start+rows)*m.Widths[0]])
		net.forward(w, rows)
		copy(y[start*out:], net.acts[len(net.acts)-1][:rows*out])
	}
	return y, nil
}

func product(shape []int) int {
	p := 1
	for _, d := range shape {
		p *= d
	}
	return p
}
