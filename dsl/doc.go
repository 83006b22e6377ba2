// Package dsl loads llcflow configurations: HCL files that declare
// variables, sweep axes and the blocks of a pipeline, and evaluates them
// into node definitions for package graph.
//
// Nouns:
//
//   - A block is a top-level HCL block. Node blocks (dataset, model, erm,
//     target, sampler) describe pipeline steps and have a kind, the
//     algorithm or generator that a Registry validates. The other blocks
//     are variable, locals, sweep, preset and backend.
//   - A variable is an input declared by a variable block. Its value comes
//     from, lowest precedence first: its default, the selected preset, an
//     LLCFLOW_VAR_name environment variable, each --var-file, each --var.
//   - A sweep axis is one attribute of the sweep block: a non-empty list of
//     numbers, strings or bools.
//   - A reference is a traversal such as var.n, local.x, sweep.seed or
//     erm.fit in an expression. References are found from the expressions'
//     traversals before anything is evaluated.
//   - An instance is one evaluation of a block or local for one
//     combination of the sweep axes it depends on. A block depends on the
//     axes it refers to, directly or through locals and other blocks.
//   - An address names an instance: TYPE.NAME, followed for a swept block
//     by [axis=value,...] with the block's axes in sweep-block order and
//     the values written as HCL literals, as in erm.fit[seed=1,width=16].
//   - A Ref is the value of a reference to a dataset, erm or target
//     instance. A top-level parameter that is a Ref becomes an input edge
//     of the node. A reference to a model instance inlines its parameters.
//
// Load runs in these steps, collecting every problem as a diagnostic with a
// source range rather than stopping at the first:
//
//  1. Parse every file. A file with syntax errors contributes its
//     declarations but none of its values.
//  2. Declare blocks and check their types, labels, duplicates and kinds.
//  3. Give each variable its value.
//  4. Collect and check references, sort locals and blocks by dependency
//     and report cycles.
//  5. Evaluate the sweep axes and find the axes each local and block
//     depends on.
//  6. Evaluate every instance in dependency order and normalize node
//     blocks with the Registry.
//  7. Evaluate backend blocks.
package dsl
