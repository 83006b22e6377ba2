// Package modal runs llcflow nodes in Modal sandboxes through Modal's
// official Go SDK (github.com/modal-labs/modal-client/go, v0.11.x).
//
// Nouns:
//   - app: the Modal app that owns the sandboxes (Options.App).
//   - volume: the Modal volume mounted at /runs in every sandbox
//     (Options.Volume). It is a second store: runs computed on Modal stay
//     there, and `llcflow pull` copies them back.
//   - worker binary: a static linux/amd64 llcflow binary, stored on the
//     volume under .llcflow/bin/llcflow-<first 16 hex digits of its
//     SHA-256>, so each build is uploaded once.
//   - sandbox: one container, whose entry command is a short sh script
//     (see scripts.go). The SDK's Volume has no file calls, so every
//     upload, listing and download is a sandbox that mounts the volume.
//   - archive: a tar archive of run directories, sent to a sandbox on its
//     stdin or received from its stdout as base64, and checked against the
//     SHA-256 the other side announces.
//   - attempt: one node sandbox and the download of its run. Run makes up
//     to Options.Retries+1 attempts.
//
// Run takes these steps for a node:
//
//  1. On first use, connect: the SDK reads the credentials from
//     MODAL_TOKEN_ID and MODAL_TOKEN_SECRET or ~/.modal.toml, then the
//     app and the volume are looked up (created when missing) and the
//     image is built.
//  2. On first use, list the runs on the volume and check for the worker
//     binary in one sandbox, then upload the binary unless it is there.
//  3. Start the node sandbox. Its stdin carries an archive of the input
//     runs that the volume lacks, which the script moves into place. The
//     script then runs `llcflow exec-node --executor=modal` on the spec,
//     whose store is /runs, commits the volume with sync, and sends the
//     run back.
//  4. Check the archive's checksum, extract it into the local store's
//     temporary area, validate the run there with the store package, and
//     rename it into place, then add it to the store's index.
//  5. On a transient failure (the sandbox lost, preempted or timed out, or
//     an incomplete transfer), wait BackoffInitial × BackoffFactor^k and
//     try again. When the node had already finished, the retry only
//     downloads it. A failure of the node itself (exec-node exits 1) is
//     returned at once as an *executors.NodeError with the error record
//     and the end of the sandbox's output.
//
// Cancelling the context terminates the sandbox of the attempt; Close
// terminates every sandbox the executor still runs.
//
// A run computed on Modal has the same manifest and outputs as a local run
// of the same node by the same llcflow build, as a test with the real
// binary checks on one machine. Modal's CPUs can still differ from a local
// one in the last bits of functions whose Go implementation takes an FMA
// path. provenance.json and log.txt record where and when a run was made,
// so they always differ.
package modal
