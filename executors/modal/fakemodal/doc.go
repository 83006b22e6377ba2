// Package fakemodal is a fake Modal control plane and task command router
// for tests of the Modal executor. It serves the gRPC services of
// github.com/modal-labs/modal-client/go (v0.11.1) on 127.0.0.1, so the
// real SDK talks to it through MODAL_SERVER_URL=http://127.0.0.1:PORT.
//
// Nouns:
//   - server: one control plane (Start) with its command router, which
//     accepts one token id and secret and rejects every other.
//   - volume: a directory under the server's root, one per volume name.
//   - sandbox: the entry command of a SandboxCreate (V1) or
//     SandboxCreateV2 (V2) request, run as a local process in a
//     directory of its own. Every path in the command that starts with a
//     volume's mount point is rewritten to the volume's directory, so a
//     command that reads /runs/x reads VOLUME_DIR/x. The image is
//     recorded and otherwise ignored: the command runs with this
//     machine's tools.
//   - fault: an injected failure that ends a matching sandbox as lost,
//     preempted or timed out, as the real service reports each.
//
// A V1 sandbox's stdin and output travel through the control plane
// (SandboxStdinWrite, SandboxGetLogs). A V2 sandbox's travel through the
// command router (SandboxStdinWriteV2, SandboxStdioReadV2), whose https://
// address the SDK dials without TLS because the control plane is on a
// loopback host. The server keeps a sandbox's whole output, where the real service
// keeps only a recent part of a V2 sandbox's.
package fakemodal
