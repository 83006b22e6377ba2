package models

import (
	"fmt"
	"testing"
)

// flopsPerRow counts the floating-point operations of one row's LossGrad:
// 2·in·out per layer forward (one multiply and one add per weight) and
// twice that backward (weight gradient and input gradient). The first
// layer's input gradient is not computed, so this overstates the work by
// 2·in·out for layer 1 and the reported rate is an upper estimate.
func flopsPerRow(widths []int) float64 {
	f := 0.0
	for l := 1; l < len(widths); l++ {
		f += 3 * 2 * float64(widths[l-1]*widths[l])
	}
	return f
}

func BenchmarkLossGrad(b *testing.B) {
	for _, widths := range [][]int{{4, 16, 1}, {32, 303, 1}} {
		const batchSize = 256
		b.Run(fmt.Sprintf("%v/batch=%d", widths, batchSize), func(b *testing.B) {
			m, err := NewMLP(widths, "tanh", true)
			if err != nil {
				b.Fatal(err)
			}
			const n = 1024
			reg, w := benchRegression(b, m, n)
			ev := reg.NewEvaluator()
			grad := make([]float64, len(w))
			batch := make([]int, batchSize)
			for i := range batch {
				batch[i] = (i * 37) % n
			}
			b.ReportAllocs()
			for b.Loop() {
				ev.LossGrad(w, batch, grad)
			}
			perOp := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(flopsPerRow(widths)*batchSize/perOp/1e9, "GFLOP/s")
		})
	}
}

func benchRegression(b *testing.B, m *MLP, n int) (*Supervised, []float64) {
	b.Helper()
	x := make([]float64, n*m.Widths[0])
	y := make([]float64, n*m.Widths[len(m.Widths)-1])
	for i := range x {
		x[i] = float64(i%17)/17 - 0.5
	}
	for i := range y {
		y[i] = float64(i%5) / 5
	}
	reg, err := NewRegression(m, x, y, n, "mse")
	if err != nil {
		b.Fatal(err)
	}
	w := make([]float64, m.NumParams())
	for i := range w {
		w[i] = float64(i%11)/55 - 0.1
	}
	return reg, w
}
