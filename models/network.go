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
	// gradT and actT are the transposes used by the portable weight
	// gradient.
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
		var b []float64
		if net.bias {
			b = w[net.biasOffset[l] : net.biasOffset[l]+out]
		}
		switch {
		case l < L && net.act == relu:
			addBiasRelu(z, b, net.acts[l][:rows*out])
		case l < L:
			addBias(z, b)
			net.act.apply(z, net.acts[l][:rows*out])
		default:
			addBias(z, b)
		}
	}
}

// addBias adds b to every row of z. A nil b adds nothing.
func addBias(z, b []float64) {
	if b == nil {
		return
	}
	out := len(b)
	for r := 0; r+out <= len(z); r += out {
		zr := z[r : r+out]
		for j, v := range b {
			zr[j] += v
		}
	}
}

// addBiasReluGo is the portable addBiasRelu: it adds b to every row of z
// (nothing when b is nil) and writes a = max(z, 0), in one pass that gives
// the bits of addBias followed by relu's apply.
func addBiasReluGo(z, b, a []float64) {
	a = a[:len(z)]
	if b == nil {
		for i, v := range z {
			a[i] = max(v, 0)
		}
		return
	}
	out := len(b)
	for r := 0; r+out <= len(z); r += out {
		zr := z[r : r+out]
		ar := a[r : r+out]
		for j, v := range b {
			s := zr[j] + v
			zr[j] = s
			ar[j] = max(s, 0)
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
//
// For relu the product with σ'(z_{l−1}) is deferred to the next layer's
// pass over ∂L/∂z, which also transposes it and sums the bias gradient.
// Each value is computed by the same operations as in separate passes.
func (net *network) backward(rows int, g []float64) {
	var mask []float64
	for l := net.layers(); l >= 1; l-- {
		in, out := net.widths[l-1], net.widths[l]
		dz := net.grad[:rows*out]

		var db []float64
		if net.bias {
			db = g[net.biasOffset[l] : net.biasOffset[l]+out]
		}
		if mask != nil {
			reluMask(dz, mask)
		}
		weightGrad(out, in, rows, dz, net.acts[l-1][:rows*in], db,
			g[net.weightOffset[l]:net.weightOffset[l]+in*out], net.gradT, net.actT)

		if l > 1 {
			next := net.gradNext[:rows*in]
			gemmNT(rows, in, out, dz, net.weightT[l], next, false)
			mask = nil
			if net.act == relu {
				mask = net.pre[l-1][:rows*in]
			} else {
				net.act.backprop(net.pre[l-1][:rows*in], net.acts[l-1][:rows*in], next)
			}
			net.grad, net.gradNext = net.gradNext, net.grad
		}
	}
}

// weightGradGo is the portable weightGrad: it adds Aᵀ·B to C, for A k × m,
// B k × n and C m × n, and the sum of A's rows to db unless db is nil. It
// transposes A into at and B into bt, then runs gemmNTGo.
func weightGradGo(m, n, k int, a, b, db, c, at, bt []float64) {
	transposeGrad(k, m, a, db, at)
	transpose4(k, n, b, bt)
	gemmNTGo(m, n, k, at, bt, c, true)
}

// transposeGrad writes the transpose of the rows × n matrix dz into t and
// adds the sum of its rows to db (unless db is nil), summing in row order.
// It works on four rows at a time, so that each store fills four adjacent
// elements of t.
func transposeGrad(rows, n int, dz, db, t []float64) {
	r := 0
	for ; r+4 <= rows; r += 4 {
		d0 := dz[r*n : r*n+n]
		d1 := dz[(r+1)*n : (r+1)*n+n]
		d2 := dz[(r+2)*n : (r+2)*n+n]
		d3 := dz[(r+3)*n : (r+3)*n+n]
		for j, v0 := range d0 {
			v1, v2, v3 := d1[j], d2[j], d3[j]
			tj := t[j*rows+r : j*rows+r+4]
			tj[0], tj[1], tj[2], tj[3] = v0, v1, v2, v3
			if db != nil {
				db[j] = db[j] + v0 + v1 + v2 + v3
			}
		}
	}
	for ; r < rows; r++ {
		row := dz[r*n : r*n+n]
		for j, v := range row {
			t[j*rows+r] = v
			if db != nil {
				db[j] += v
			}
		}
	}
}

// reluMaskGo is the portable reluMask: it sets g_i to 0 where z_i ≤ 0, as
// relu's backprop does.
func reluMaskGo(g, z []float64) {
	g = g[:len(z)]
	for i, v := range z {
		if v <= 0 {
			g[i] = 0
		}
	}
}

// transpose4 writes the transpose of the m × n matrix a into t (n × m),
// four rows of a at a time so that each store fills four adjacent
// elements of t.
func transpose4(m, n int, a, t []float64) {
	i := 0
	for ; i+4 <= m; i += 4 {
		a0 := a[i*n : i*n+n]
		a1 := a[(i+1)*n : (i+1)*n+n]
		a2 := a[(i+2)*n : (i+2)*n+n]
		a3 := a[(i+3)*n : (i+3)*n+n]
		for j, v := range a0 {
			tj := t[j*m+i : j*m+i+4]
			tj[0] = v
			tj[1] = a1[j]
			tj[2] = a2[j]
			tj[3] = a3[j]
		}
	}
	for ; i < m; i++ {
		for j, v := range a[i*n : i*n+n] {
			t[j*m+i] = v
		}
	}
}
