package models

// blockRows is the number of batch rows processed together. Gradients and
// losses are summed block by block, so this constant is part of the
// definition of the results: changing it changes their last bits.
const blockRows = 64

// network holds the forward and backward buffers of one MLP for one block
// of up to blockRows rows. It is not safe for concurrent use.
type network struct {
	widths []int
	act    activation
	bias   bool
	// weightOffset[l] and biasOffset[l] locate W_l and b_l in w, for
	// l = 1..L (index 0 unused). biasOffset is −1 without biases.
	weightOffset, biasOffset []int

	// acts[l] is a_l (rows × widths[l]); acts[0] is the input block.
	acts [][]float64
	// pre[l] is z_l = W_l a_{l−1} + b_l for the hidden layers l = 1..L−1.
	pre [][]float64
	// grad and gradNext are ∂L/∂z of the current layer and the one below.
	grad, gradNext []float64
	// gradT and actT are the transposes used by the weight gradient.
	gradT, actT []float64
	// weightT[l] is W_lᵀ (in × out), refreshed once per call.
	weightT [][]float64
}

func newNetwork(m *MLP) *network {
	act, err := parseActivation(m.Activation)
	if err != nil {
		panic("models: network of an unvalidated MLP: " + err.Error())
	}
	layers := len(m.Widths) - 1
	net := &network{
		widths:       m.Widths,
		act:          act,
		bias:         m.Bias,
		weightOffset: make([]int, layers+1),
		biasOffset:   make([]int, layers+1),
		acts:         make([][]float64, layers+1),
		pre:          make([][]float64, layers+1),
		weightT:      make([][]float64, layers+1),
	}

	offset := 0
	maxWidth := 0
	for l := 0; l <= layers; l++ {
		maxWidth = max(maxWidth, m.Widths[l])
		net.acts[l] = make([]float64, blockRows*m.Widths[l])
		if l == 0 {
			continue
		}
		in, out := m.Widths[l-1], m.Widths[l]
		net.weightOffset[l] = offset
		offset += in * out
		net.biasOffset[l] = -1
		if m.Bias {
			net.biasOffset[l] = offset
			offset += out
		}
		if l < layers {
			net.pre[l] = make([]float64, blockRows*out)
		}
		net.weightT[l] = make([]float64, in*out)
	}

	net.grad = make([]float64, blockRows*maxWidth)
	net.gradNext = make([]float64, blockRows*maxWidth)
	net.gradT = make([]float64, blockRows*maxWidth)
	net.actT = make([]float64, blockRows*maxWidth)
	return net
}

func (net *network) layers() int { return len(net.widths) - 1 }

// output returns a_L for the current block.
func (net *network) output(rows int) []float64 {
	return net.acts[net.layers()][:rows*net.widths[net.layers()]]
}

// forward computes a_1..a_L for the rows in acts[0]:
//
//	z_l = a_{l−1}·W_lᵀ + b_l,  a_l = σ(z_l) for l < L,  a_L = z_L.
func (net *network) forward(w []float64, rows int) {
	L := net.layers()
	for l := 1; l <= L; l++ {
		in, out := net.widths[l-1], net.widths[l]
		weight := w[net.weightOffset[l] : net.weightOffset[l]+in*out]
		z := net.acts[l][:rows*out]
		if l < L {
			z = net.pre[l][:rows*out]
		}
		gemmNT(rows, out, in, net.acts[l-1], weight, z, false)
		if net.bias {
			b := w[net.biasOffset[l] : net.biasOffset[l]+out]
			for r := 0; r < rows; r++ {
				zr := z[r*out : r*out+out]
				for j, v := range b {
					zr[j] += v
				}
			}
		}
		if l < L {
			net.act.apply(z, net.acts[l][:rows*out])
		}
	}
}

// prepareBackward stores W_lᵀ for the layers whose input gradient is
// needed. Call it once per w before the blocks' backward passes.
func (net *network) prepareBackward(w []float64) {
	for l := 2; l <= net.layers(); l++ {
		in, out := net.widths[l-1], net.widths[l]
		transpose(out, in, w[net.weightOffset[l]:net.weightOffset[l]+in*out], net.weightT[l])
	}
}

// backward adds the gradient of the block's loss to g, given net.grad
// holding ∂L/∂z_L (rows × widths[L]) and a forward pass of the same block:
//
//	∂L/∂W_l += (∂L/∂z_l)ᵀ·a_{l−1},  ∂L/∂b_l += Σ_rows ∂L/∂z_l,
//	∂L/∂z_{l−1} = (∂L/∂z_l·W_l) ⊙ σ'(z_{l−1}).
func (net *network) backward(rows int, g []float64) {
	for l := net.layers(); l >= 1; l-- {
		in, out := net.widths[l-1], net.widths[l]
		dz := net.grad[:rows*out]

		transpose(rows, out, dz, net.gradT)
		transpose(rows, in, net.acts[l-1][:rows*in], net.actT)
		gemmNT(out, in, rows, net.gradT, net.actT, g[net.weightOffset[l]:net.weightOffset[l]+in*out], true)

		if net.bias {
			db := g[net.biasOffset[l] : net.biasOffset[l]+out]
			for r := 0; r < rows; r++ {
				for j, v := range dz[r*out : r*out+out] {
					db[j] += v
				}
			}
		}

		if l > 1 {
			next := net.gradNext[:rows*in]
			gemmNT(rows, in, out, dz, net.weightT[l], next, false)
			net.act.backprop(net.pre[l-1][:rows*in], net.acts[l-1][:rows*in], next)
			net.grad, net.gradNext = net.gradNext, net.grad
		}
	}
}
