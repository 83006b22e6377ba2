package samplers

// addWeightDecay adds the gradient α·w of the weight-decay prior
// (α/2)‖w‖² into grad and returns (α/2)‖w‖². Callers skip it when α = 0,
// so that runs without weight decay keep their bits.
func addWeightDecay(alpha float64, w, grad []float64) float64 {
	var norm2 float64
	for i, wi := range w {
		grad[i] += alpha * wi
		norm2 += wi * wi
	}
	return alpha / 2 * norm2
}
