// Package graph turns the node definitions of a spec into a
// content-addressed graph and plans which nodes must run.
//
// Nouns:
//   - def: one instance of a block after sweep expansion, with evaluated
//     parameters and references to other nodes by address (Def).
//   - address: the user-facing name of a node, TYPE.NAME followed, for
//     swept blocks, by [axis=value,...], as in erm.fit[seed=1,width=16].
//   - node: a def with its inputs resolved and its key computed (Node).
//   - input: an edge from a node to the node that one of its roles
//     ("dataset", "erm", "target") refers to.
//   - key: hex SHA-256 of the canonical encoding of a node's type, kind,
//     implementation version, parameters and input keys. The address and
//     block name are not part of it, so renaming a block keeps its cache.
//   - run id: the first 16 hex digits of a key, which names the node's run
//     directory in the store.
//   - pattern: an address pattern that selects nodes by whole address
//     segments, for --rerun and --target (Pattern).
//   - plan: the action for every node (run, cached or forced) with the
//     reason a node must run (Plan).
//
// Building a graph takes four steps: index the defs by address, resolve
// each input address to its node, order the nodes topologically with ties
// broken by address, and compute the keys in that order so that every
// input key exists before its dependents need it.
//
// The package reads the store only through the Lookup interface.
package graph
