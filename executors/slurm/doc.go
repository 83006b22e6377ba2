// Package slurm runs llcflow nodes as SLURM batch jobs. Each job runs
// `llcflow exec-node --executor=slurm SPEC` on a compute node, which writes
// the node's run into the store. The store must therefore be on a
// filesystem that the submitting host and the compute nodes share.
//
// Nouns:
//
//   - batch: the nodes whose Run calls arrived within one batching window
//     (Config.BatchWindow), submitted as one job array. Its directory
//     <store>/slurm/<batch-id>/ holds one spec file per node
//     (<run_id>.json), the script job.sbatch, the logs/ folder with one
//     log per array task (<job>_<task>.log) and, once the executor that
//     submitted the batch has scancelled some of its tasks, the file
//     cancelled that lists their task ids, one a line.
//   - job array and task: what one sbatch call submits (--array=0-N%P) and
//     one index of it. Task i runs the i-th node of the batch. A batch
//     larger than the cluster's MaxArraySize is split into several arrays.
//   - job record: <store>/slurm/jobs/<run_id>.json, the latest job
//     submitted for a run (job id, array task, batch, submit time), so that
//     a later apply waits for a job that is still queued or running instead
//     of submitting it again. <run_id>.lock beside it serialises the
//     decision to submit between processes.
//   - attempt: one job for one node. TIMEOUT, PREEMPTED, NODE_FAIL,
//     BOOT_FAIL and exit code 3 (exec-node saved a checkpoint after
//     SIGUSR1) start a fresh attempt, up to Options.MaxRetries.
//
// Steps of Run:
//
//  1. Return at once when the run directory <store>/<run_id>/ exists,
//     unless the spec is forced: then only a new run directory, which
//     exec-node renames over the old one, counts as the result.
//  2. Under the run's lock, read the job record. A recorded job that is
//     not the attempt that just ended, and that its batch's cancelled
//     file does not list, is waited for. Otherwise the node joins the
//     current batch, which is written, submitted with `sbatch --parsable`
//     and recorded.
//  3. A single poll loop serves every waiting Run call. Each cycle first
//     looks for the run directories, then asks Slurm about the remaining
//     jobs in one query: sacct, or squeue -t all once sacct has reported
//     that accounting storage is disabled. The wait between cycles grows
//     from Config.PollInterval to Config.PollMax while nothing changes.
//  4. A job that ended without a run is retried (see attempt), or fails
//     the node with the last 20 lines of its log. A recorded job of
//     another process that ended before this Run, or that its submitter
//     cancelled, is submitted again. squeue prints an array whose tasks
//     all ended while pending without task ids ("28|CANCELLED"), and that
//     line is the state of each of its tasks. A job that Slurm no
//     longer knows and that left no run is lost after Config.LostAfter
//     and returned as an *executors.InfraError.
//  5. When the Run's context ends, the executor scancels the jobs it
//     submitted itself, lists them in their batches' cancelled files and
//     returns the context's error. Jobs found through a record of another
//     process are left running.
//
// The client commands (sbatch, sacct, squeue, scancel, scontrol) come from
// PATH and find the cluster's configuration through SLURM_CONF or their
// built-in default.
package slurm
