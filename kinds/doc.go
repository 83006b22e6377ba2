// Package kinds implements the node kinds of llcflow: what each block kind
// accepts (its schema and defaults), its implementation version, and how it
// turns parameters and input runs into output files.
//
// Nouns:
//   - kind: one implementation of a block type, such as the "sgld" sampler.
//   - version: "sgld/1"; bumped whenever the outputs of the same parameters
//     change, so cached runs of the old version rerun.
//   - run directory: where a node writes its outputs; every kind writes a
//     result.json with its summary beside its data files.
//
// Output files by block type:
//   - dataset: x.npy (n × in_dim), y.npy (n × out_dim), teacher.npy.
//   - erm: weights.npy (w*), curve.csv (step,loss), result.json with the
//     dataset's run id and the model.
//   - sampler: trace.csv (chain,draw,step,loss,llc and per-draw signals),
//     result.json with the estimate and its diagnostics.
//
// Model blocks are not nodes: the DSL inlines their parameters into the erm
// blocks that refer to them.
package kinds
