package kinds

import (
	"fmt"
	"path/filepath"

	"github.com/llcflow/llcflow/models"
	"github.com/llcflow/llcflow/npy"
)

// trainedModel is an erm run's w* with the potential it minimizes, as a
// sampler needs them.
type trainedModel struct {
	// result is the erm's result.json. Its LambdaTrue and
	// LambdaMultiplicity are the learning coefficient where known.
	result ermResult
	// pot is L_n of the erm's model, data and loss.
	pot   *models.Supervised
	wStar []float64
}

// loadTrained reads the erm run in dir, the dataset run it names (found
// with runDir) and its w*, and builds the potential with the erm's loss.
// It serves training and checkpoint erms alike.
//
// NOTE: loadERM in sampler.go still builds a mean-squared-error potential
// itself, so sampling an erm with another loss needs it to call
// loadTrained.
func loadTrained(dir string, runDir func(runID string) string) (*trainedModel, error) {
	var res ermResult
	if err := readJSON(filepath.Join(dir, "result.json"), &res); err != nil {
		return nil, fmt.Errorf("read erm result: %w", err)
	}
	data, err := loadDataset(runDir(res.DatasetRunID))
	if err != nil {
		return nil, err
	}
	mlp, err := newModel(res.Model, data.result.InDim, modelOutDim(data.result, res.Loss))
	if err != nil {
		return nil, err
	}
	_, wStar, err := npy.Read(filepath.Join(dir, fileWeights))
	if err != nil {
		return nil, err
	}
	if len(wStar) != mlp.NumParams() {
		return nil, fmt.Errorf("erm weights have %d values, the model needs %d", len(wStar), mlp.NumParams())
	}
	pot, err := models.NewSupervised(mlp, data.x, data.y, data.n, res.Loss.loss())
	if err != nil {
		return nil, err
	}
	return &trainedModel{result: res, pot: pot, wStar: wStar}, nil
}
