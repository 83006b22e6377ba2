package main

import (
	"github.com/llcflow/llcflow/executors/slurm"
)

// slurmFlags are the apply flags of --backend slurm. A flag that is given
// overrides the same attribute of the `backend "slurm"` block; the pointer
// and slice fields stay nil when the flag is absent.
type slurmFlags struct {
	Partition        *string  `group:"SLURM" help:"SLURM partition to submit to (default: the backend block's, else the cluster's default)."`
	TimeoutMin       *int     `group:"SLURM" name:"timeout-min" help:"Time limit of one SLURM job in minutes (0: the partition's default)."`
	CPUs             *int     `group:"SLURM" name:"cpus" help:"CPUs per SLURM job (--cpus-per-task); also bounds a sampler node's chain goroutines."`
	MemGB            *float64 `group:"SLURM" name:"mem-gb" help:"Memory per SLURM job in GiB."`
	GPUs             *int     `group:"SLURM" name:"gpus" help:"GPUs per SLURM job, passed to sbatch --gpus (llcflow's samplers run on CPUs)."`
	Account          *string  `group:"SLURM" help:"SLURM account to charge."`
	QOS              *string  `group:"SLURM" name:"qos" help:"SLURM quality of service."`
	Constraint       *string  `group:"SLURM" help:"SLURM node features required, as sbatch --constraint takes them."`
	Exclude          *string  `group:"SLURM" help:"SLURM nodes not to use, as sbatch --exclude takes them."`
	SbatchLine       []string `group:"SLURM" name:"sbatch-line" sep:"none" help:"Extra #SBATCH option such as --mail-type=END; repeatable, replaces the block's sbatch_lines."`
	SetupLine        []string `group:"SLURM" name:"setup-line" sep:"none" help:"Shell line run before the node, such as 'module load go'; repeatable, replaces the block's setup."`
	ArrayParallelism *int     `group:"SLURM" name:"array-parallelism" help:"Tasks of one SLURM job array that run at once (the %P of --array; 0: no limit)."`
}

// options returns the block's options with the given flags on top,
// validated.
func (f *slurmFlags) options(block map[string]any) (slurm.Options, error) {
	o, err := slurm.OptionsFromBlock(block)
	if err != nil {
		return slurm.Options{}, err
	}
	setIf(&o.Partition, f.Partition)
	setIf(&o.TimeoutMin, f.TimeoutMin)
	setIf(&o.CPUs, f.CPUs)
	setIf(&o.MemGB, f.MemGB)
	setIf(&o.GPUs, f.GPUs)
	setIf(&o.Account, f.Account)
	setIf(&o.QOS, f.QOS)
	setIf(&o.Constraint, f.Constraint)
	setIf(&o.Exclude, f.Exclude)
	setIf(&o.ArrayParallelism, f.ArrayParallelism)
	if f.SbatchLine != nil {
		o.ExtraSBATCH = f.SbatchLine
	}
	if f.SetupLine != nil {
		o.Setup = f.SetupLine
	}
	if err := o.Validate(); err != nil {
		return slurm.Options{}, err
	}
	return o, nil
}

func setIf[T any](dst *T, flag *T) {
	if flag != nil {
		*dst = *flag
	}
}
