// Package store keeps the runs of llcflow nodes in a content-addressed
// directory tree, writes them atomically and serializes concurrent writers
// with file locks.
//
// Nouns:
//   - run: the outputs of one node, stored under its run id (the first 16
//     hex digits of the node key) in <root>/<run_id>/.
//   - manifest: manifest.json of a run, the deterministic record of what
//     the run is (key, type, kind, version, params, inputs) and of every
//     output file with its size and SHA-256.
//   - provenance: provenance.json of a run, the non-deterministic record of
//     where and when it ran. It is not listed in the manifest's files.
//   - result: result.json, the kind's summary of a run, listed in the files.
//   - index: index.jsonl, one JSON line per (address, run id, key, time),
//     appended whenever a run is committed or reused under an address.
//   - lock: <root>/.locks/<run_id>.lock, an flock(2) lock that one
//     transaction holds while it writes the run. The file records the
//     holder's pid, host and start time for messages.
//   - transaction: one attempt to write a run (Txn), from Begin to Commit,
//     Fail or Abort.
//   - failure: <root>/failed/<run_id>/, the last failed attempt of a run id,
//     with error.json, its partial outputs and log.txt.
//   - cancellation: <root>/cancelled/<run_id>.json, the record of an attempt
//     that its context cancelled, such as by Ctrl-C, without its outputs.
//
// Layout:
//
//	<root>/<run_id>/manifest.json
//	<root>/<run_id>/provenance.json
//	<root>/<run_id>/result.json
//	<root>/<run_id>/log.txt
//	<root>/<run_id>/...              the kind's other outputs
//	<root>/index.jsonl
//	<root>/.locks/<run_id>.lock
//	<root>/.tmp/<run_id>.<random>/   runs being written
//	<root>/.checkpoints/<run_id>/    checkpoints of stopped sampler runs
//	<root>/failed/<run_id>/          error.json, partial outputs, log.txt
//	<root>/cancelled/<run_id>.json   the last cancelled attempt
//
// A transaction goes through these steps:
//
//  1. Begin takes the lock of the run id, waiting a bounded time, and
//     removes temporary directories of that run id, which only a killed
//     process can have left because the lock is held.
//  2. Begin returns ErrCached if a valid run with the key exists by now,
//     and rejects a run directory that holds a different key.
//  3. The kind writes its outputs and log into Txn.Dir.
//  4. Commit hashes the outputs, writes the manifest and provenance with
//     fsync, renames the directory into place, fsyncs the root, validates
//     the installed run, appends to the index and releases the lock.
//     Fail instead moves the attempt to failed/<run_id>, and Abort removes
//     it, recording it in cancelled/<run_id>.json when its context is done.
//
// A crash at any step leaves either no run directory or a complete one:
// the rename into place is the commit point. Lock files stay behind after
// their lock is released. They are harmless, because an flock lock belongs
// to an open file and the kernel releases it when its holder exits, even
// after SIGKILL. The pid recorded in a lock file is only read for messages.
package store
