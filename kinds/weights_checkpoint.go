package kinds

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/models"
	"github.com/llcflow/llcflow/npy"
)

// A training erm with checkpoints saves its optimizer state at those
// steps, and at step 0, into checkpoints/step_<k>.npy: one row each of the
// weights and, for Adam, the two moment estimates. A checkpoint erm
// (from = erm.NAME, checkpoint = k) replays training from the latest saved
// state at or before k, which gives the weights of step k bit for bit, and
// makes them its w*. The training erm's key does not depend on the
// checkpoint erms, so adding one to a sweep reruns nothing else, and it
// costs at most the steps between two saved states.
const dirCheckpoints = "checkpoints"

// savedState is one saved training state, as result.json lists it.
type savedState struct {
	Step int `json:"step"`
	// File is the state's file, relative to the run directory.
	File string `json:"file"`
	// Loss is L_n at the state, and Accuracy the fraction of correct
	// predictions for the classification losses (else null).
	Loss     any `json:"loss"`
	Accuracy any `json:"accuracy"`
	// Beta1Pow and Beta2Pow are Adam's bias-correction products β1^step
	// and β2^step.
	Beta1Pow float64 `json:"beta1_pow"`
	Beta2Pow float64 `json:"beta2_pow"`
}

// saveSteps returns the steps at which training saves its state: step 0
// and the checkpoints, or none without checkpoints.
func saveSteps(checkpoints []int) []int {
	if len(checkpoints) == 0 {
		return nil
	}
	return append([]int{0}, checkpoints...)
}

// stateSaver writes training states into a run directory.
type stateSaver struct {
	dir   string
	pot   *models.Supervised
	saved []savedState
}

func (s *stateSaver) save(state models.TrainState, loss float64) error {
	name := filepath.Join(dirCheckpoints, fmt.Sprintf("step_%d.npy", state.Step))
	if err := os.MkdirAll(filepath.Join(s.dir, dirCheckpoints), 0o755); err != nil {
		return fmt.Errorf("create checkpoint directory: %w", err)
	}
	rows := [][]float64{state.W}
	if state.M != nil {
		rows = append(rows, state.M, state.V)
	}
	d := len(state.W)
	data := make([]float64, 0, len(rows)*d)
	for _, r := range rows {
		data = append(data, r...)
	}
	if err := npy.Write(filepath.Join(s.dir, name), []int{len(rows), d}, data); err != nil {
		return err
	}
	s.saved = append(s.saved, savedState{
		Step: state.Step, File: name, Loss: finite(loss), Accuracy: accuracyAt(s.pot, state.W),
		Beta1Pow: state.Beta1Pow, Beta2Pow: state.Beta2Pow,
	})
	return nil
}

// readState loads a saved state of the training run in dir.
func readState(dir string, s savedState) (*models.TrainState, error) {
	shape, data, err := npy.Read(filepath.Join(dir, s.File))
	if err != nil {
		return nil, fmt.Errorf("read training state: %w", err)
	}
	if len(shape) != 2 || (shape[0] != 1 && shape[0] != 3) {
		return nil, fmt.Errorf("training state %s has shape %v, want (1, d) or (3, d)", s.File, shape)
	}
	d := shape[1]
	state := &models.TrainState{Step: s.Step, W: data[:d], Beta1Pow: s.Beta1Pow, Beta2Pow: s.Beta2Pow}
	if shape[0] == 3 {
		state.M, state.V = data[d:2*d], data[2*d:]
	}
	return state, nil
}

// checkpointParams are the params of a checkpoint erm.
type checkpointParams struct {
	Checkpoint *int `json:"checkpoint"`
}

// checkCheckpointERM requires checkpoint and rejects every training
// setting, which a checkpoint erm takes from its training erm.
func checkCheckpointERM(params map[string]any) []dsl.FieldError {
	var errs []dsl.FieldError
	if _, ok := params["checkpoint"]; !ok {
		errs = append(errs, dsl.FieldError{Attr: "from", Summary: "Missing required argument",
			Detail: "An erm with from = erm.NAME is a checkpoint of that erm's training and needs checkpoint = STEP."})
	}
	for _, a := range ermAttrs() {
		if a.Name == "from" || a.Name == "checkpoint" {
			continue
		}
		if _, ok := params[a.Name]; ok {
			errs = append(errs, dsl.FieldError{Attr: a.Name, Summary: "Unsupported argument",
				Detail: fmt.Sprintf("An erm with from = erm.NAME takes its training settings from that erm, so %s does not apply here; remove it.", a.Name)})
		}
	}
	return errs
}

// runCheckpointERM writes the weights of the training erm at step
// checkpoint as its own w*, with the erm outputs samplers read.
func runCheckpointERM(ctx context.Context, rc *RunContext) error {
	var p checkpointParams
	if err := decode(rc.Params, &p); err != nil {
		return err
	}
	k := *p.Checkpoint
	srcDir := rc.Inputs["from"]
	srcID := filepath.Base(srcDir)
	var src ermResult
	if err := readJSON(filepath.Join(srcDir, "result.json"), &src); err != nil {
		return fmt.Errorf("read erm result: %w", err)
	}
	switch {
	case src.Checkpoint != nil:
		return fmt.Errorf("erm run %s is itself a checkpoint (of run %s); set from to the training erm", srcID, src.TrainedRunID)
	case src.Train == nil:
		return fmt.Errorf("erm run %s records no training settings; rerun it with this llcflow (llcflow apply --rerun)", srcID)
	case k > src.Steps:
		return fmt.Errorf("checkpoint %d is after the last training step %d of erm run %s", k, src.Steps, srcID)
	}

	data, err := loadDataset(rc.RunDir(src.DatasetRunID))
	if err != nil {
		return err
	}
	mlp, err := newModel(src.Model, data.result.InDim, modelOutDim(data.result, src.Loss))
	if err != nil {
		return err
	}
	pot, err := models.NewSupervised(mlp, data.x, data.y, data.n, src.Loss.loss())
	if err != nil {
		return err
	}
	start, err := replayStart(srcDir, src, k, mlp.NumParams())
	if err != nil {
		return err
	}

	settings := *src.Train
	settings.Steps = k
	w := make([]float64, mlp.NumParams())
	res, err := models.Train(ctx, pot.NewEvaluator(), w, settings.config(), models.TrainHooks{
		Resume: start,
		Progress: func(done, total int) {
			if rc.Progress != nil && total > start.Step {
				rc.Progress(float64(done-start.Step)/float64(total-start.Step), fmt.Sprintf("step %d/%d", done, total))
			}
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(rc.Log, "checkpoint %d of erm run %s: replayed steps %d to %d, L_n = %g, |grad| = %g\n",
		k, srcID, start.Step, k, res.FinalLoss, res.GradNorm)
	if err := npy.Write(filepath.Join(rc.Dir, fileWeights), []int{len(w)}, w); err != nil {
		return err
	}
	lambda, mult := lambdaTrue(data.result, mlp, src.Init == "teacher")
	return writeJSON(rc.Dir, "result.json", ermResult{
		DatasetRunID: src.DatasetRunID, Model: src.Model, D: len(w), N: data.n, Steps: k,
		FinalLoss: finite(res.FinalLoss), GradNorm: finite(res.GradNorm), NotMinimum: res.GradNorm > gradNormWarning,
		Init: src.Init, LambdaTrue: lambda, LambdaMultiplicity: mult,
		Loss: src.Loss, Accuracy: accuracyAt(pot, w), Checkpoint: &k, TrainedRunID: srcID,
	})
}

// replayStart returns the state to replay step k from: the latest saved
// state at or before k, or the final weights when k is the last step.
func replayStart(srcDir string, src ermResult, k, d int) (*models.TrainState, error) {
	if k == src.Steps {
		_, w, err := npy.Read(filepath.Join(srcDir, fileWeights))
		if err != nil {
			return nil, err
		}
		if len(w) != d {
			return nil, fmt.Errorf("erm weights have %d values, the model needs %d", len(w), d)
		}
		// No update follows, so the moments only need the right length.
		return &models.TrainState{Step: k, W: w, M: make([]float64, d), V: make([]float64, d)}, nil
	}
	var best *savedState
	for i := range src.Checkpoints {
		if s := &src.Checkpoints[i]; s.Step <= k && (best == nil || s.Step > best.Step) {
			best = s
		}
	}
	if best == nil {
		return nil, fmt.Errorf("erm run %s saved no training state at or before step %d; set checkpoints or num_checkpoints on that erm",
			filepath.Base(srcDir), k)
	}
	state, err := readState(srcDir, *best)
	if err != nil {
		return nil, err
	}
	if len(state.W) != d {
		return nil, fmt.Errorf("training state %s has %d weights, the model needs %d", best.File, len(state.W), d)
	}
	return state, nil
}
