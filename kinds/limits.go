package kinds

import (
	"fmt"

	"github.com/llcflow/llcflow/dsl"
)

// maxNodeBytes bounds the estimated memory of one erm or sampler node. It
// is 8 GiB, half the memory of a 16 GiB laptop, which a SLURM node or a
// Modal sandbox also gives when asked for it. It is fixed rather than a
// share of this machine's memory, so that a file validates the same way on
// every machine.
const maxNodeBytes = 8 << 30

// maxTraceBytes bounds the values that a sampler node records, chains ×
// draws × values per draw × 8 bytes. trace.csv spells each value in about
// 20 bytes, so the text written at the end of the run takes about three
// times as much again, and both fit within maxNodeBytes next to the
// model's buffers.
const maxTraceBytes = 1 << 30

// maxCheckpointBytes bounds the disk space of the training states that
// one erm saves for checkpoint erms, 16 GiB, twice maxNodeBytes.
const maxCheckpointBytes = 16 << 30

// Terms of the memory estimate of a model, counted from the allocations of
// models and samplers. ERM keeps w, its gradient and Adam's two moments. A
// sampler chain keeps up to ten vectors of d, such as its position,
// gradient, proposal, momentum and mass. Each evaluator adds a transposed
// copy of the weights, and the activations, pre-activations and four
// gradient buffers of the 64 rows it evaluates at a time.
const (
	bufferVectors  = 12
	activationRows = 64
)

// mlpSize is the size of an MLP in float64 values, as float64 so that the
// widths of any valid block multiply without overflow.
type mlpSize struct {
	// params is d, widthSum the sum of the layer widths and maxWidth the
	// largest width.
	params, widthSum, maxWidth float64
}

// sizeOfWidths returns the size of an MLP with the given widths.
func sizeOfWidths(widths []int, bias bool) mlpSize {
	var s mlpSize
	for l, w := range widths {
		s.widthSum += float64(w)
		s.maxWidth = max(s.maxWidth, float64(w))
		if l == 0 {
			continue
		}
		s.params += float64(widths[l-1]) * float64(w)
		if bias {
			s.params += float64(w)
		}
	}
	return s
}

// sizeOfDepth returns the size of an MLP of depth hidden layers of width
// h between an input of width in and an output of width out, without
// listing its widths, so that a huge depth costs nothing.
func sizeOfDepth(in, h, depth, out int, bias bool) mlpSize {
	fin, fh, fdepth, fout := float64(in), float64(h), float64(depth), float64(out)
	s := mlpSize{
		params:   fin*fh + (fdepth-1)*fh*fh + fh*fout,
		widthSum: fin + fdepth*fh + fout,
		maxWidth: max(fin, fh, fout),
	}
	if bias {
		s.params += fdepth*fh + fout
	}
	return s
}

// bytes returns the estimated memory of the buffers that ERM or one
// sampler chain keeps for the model.
func (s mlpSize) bytes() float64 {
	return 8 * (bufferVectors*s.params + activationRows*(2*s.widthSum+4*s.maxWidth))
}

// gib formats a byte count in GiB, or in TiB above 1024 GiB.
func gib(bytes float64) string {
	if bytes >= 1<<40 {
		return fmt.Sprintf("%.3g TiB", bytes/(1<<40))
	}
	return fmt.Sprintf("%.3g GiB", bytes/(1<<30))
}

// nodeLimit names the memory limit of a node and the machine it fits.
var nodeLimit = fmt.Sprintf("the limit of %d GiB per node, which is half of a 16 GiB laptop's memory", maxNodeBytes>>30)

// modelTooLarge returns the detail of a model whose buffers exceed
// maxNodeBytes, or "" when they fit. sizeText states the model's size,
// such as "widths [4 100000 1] give d = 500201 parameters".
func modelTooLarge(s mlpSize, sizeText string) string {
	if s.bytes() <= maxNodeBytes {
		return ""
	}
	return fmt.Sprintf("%s. ERM and each sampler chain keep up to about %d vectors of d float64 and "+
		"the activations of %d rows, %s, above %s. Use fewer or narrower layers.",
		sizeText, bufferVectors, activationRows, gib(s.bytes()), nodeLimit)
}

// checkModelSize rejects a model given by widths, or by depth and
// target_params, whose buffers would exceed maxNodeBytes. A model given
// by depth and width needs the data's widths and is checked by CheckGraph.
func checkModelSize(p mlpParams) []dsl.FieldError {
	var detail, attr string
	switch {
	case p.Widths != nil:
		s := sizeOfWidths(p.Widths, p.Bias)
		attr = "widths"
		detail = modelTooLarge(s, fmt.Sprintf("widths %v give d = %.0f parameters", p.Widths, s.params))
	case p.TargetParams != 0:
		// The hidden width is chosen to give about target_params
		// parameters, so d is close to it whatever the data's widths.
		attr = "target_params"
		detail = modelTooLarge(mlpSize{params: float64(p.TargetParams)},
			fmt.Sprintf("target_params = %d gives about that many parameters d", p.TargetParams))
	}
	if detail == "" {
		return nil
	}
	return []dsl.FieldError{{Attr: attr, Summary: "Model too large", Detail: detail}}
}

// checkTraceSize rejects a sampler whose recorded draws would exceed
// maxTraceBytes. Each draw records its step, loss and LLC and perDraw − 3
// further values. attr names the attribute that sets the draws.
func checkTraceSize(chains, draws, perDraw int, attr, drawsText string) []dsl.FieldError {
	bytes := float64(chains) * float64(draws) * float64(perDraw) * 8
	if bytes <= maxTraceBytes {
		return nil
	}
	return []dsl.FieldError{{Attr: attr, Summary: "Trace too large",
		Detail: fmt.Sprintf("%d chains × %s × %d values per draw × 8 bytes = %s of trace, above the "+
			"limit of %d GiB per sampler, which leaves room for the trace's CSV text within %d GiB, "+
			"half of a 16 GiB laptop's memory. Lower %s or chains.",
			chains, drawsText, perDraw, gib(bytes), maxTraceBytes>>30, maxNodeBytes>>30, attr)}}
}

// checkpointTooLarge returns the detail of a training erm whose saved
// states exceed maxCheckpointBytes, or "" when they fit. Training saves
// step 0 and each of the checkpoints steps, each a row of the weights and,
// for Adam, two rows of its moment estimates.
func checkpointTooLarge(s mlpSize, checkpoints int, optimizer string) string {
	states, rows := float64(checkpoints+1), 3.0
	if optimizer == "sgd" {
		rows = 1
	}
	bytes := states * rows * s.params * 8
	if bytes <= maxCheckpointBytes {
		return ""
	}
	return fmt.Sprintf("%d checkpoints and step 0 save %.0f training states of %.0f rows of d = %.0f "+
		"float64, %s, above the limit of %d GiB of saved states per erm. "+
		"Lower num_checkpoints or list fewer checkpoints.",
		checkpoints, states, rows, s.params, gib(bytes), maxCheckpointBytes>>30)
}
