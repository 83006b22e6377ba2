package graph

// Param values are JSON-like: nil, bool, float64 (every number), string,
// []any and map[string]any. The DSL produces them from cty values and the
// kinds read them back into typed structs with encoding/json.

// AxisValue is one sweep axis and the value a node takes on it.
type AxisValue struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// InputRef names the node that a parameter of another node refers to.
type InputRef struct {
	// Role is the attribute that holds the reference: "dataset", "erm",
	// "target".
	Role string `json:"role"`
	// Address is the referenced node's address.
	Address string `json:"address"`
}

// Def is a node as the DSL produces it: one instance of a block after
// sweep expansion, with its parameters evaluated and defaults filled in.
type Def struct {
	// Address is TYPE.NAME followed, for swept blocks, by [axis=value,...].
	Address string
	// Type is the block type: "dataset", "erm", "target", "sampler".
	Type string
	// Name is the block label. It is not part of the key.
	Name string
	// Kind is the algorithm or generator, such as "teacher_student" or
	// "sgld".
	Kind string
	// Version is the kind's implementation version, such as "sgld/1".
	Version string
	// Axes are the sweep axes the node depends on, in sweep-block order.
	Axes []AxisValue
	// Params are the evaluated parameters without the references, which
	// are in Inputs.
	Params map[string]any
	// Inputs are the nodes this node reads, at most one per role.
	Inputs []InputRef
	// Source is "FILE:LINE" of the block, for messages.
	Source string
}

// Input is an edge of the graph: the node that a role refers to.
type Input struct {
	Role string
	Node *Node
}

// Node is a Def with its inputs resolved and its key computed.
type Node struct {
	Def
	// In are the resolved inputs, sorted by role.
	In []Input
	// Key is the hex SHA-256 of the canonical encoding of type, kind,
	// version, params and the input keys (see ComputeKey).
	Key string
	// RunID is the first 16 hex digits of Key.
	RunID string
}
