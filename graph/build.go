package graph

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Graph is a set of nodes with resolved inputs and computed keys.
type Graph struct {
	// Nodes are in topological order: every node comes after its inputs,
	// and nodes whose order the edges leave free are sorted by address.
	Nodes     []*Node
	byAddress map[string]*Node
}

// Node returns the node with this address, or nil.
func (g *Graph) Node(address string) *Node {
	return g.byAddress[address]
}

// Build resolves the inputs of the defs by address, orders the nodes
// topologically and computes their keys. A reference to an address that
// no def has, a duplicate address or role, a def without type, kind or
// version, and a dependency cycle are errors.
func Build(defs []Def) (*Graph, error) {
	g := &Graph{byAddress: make(map[string]*Node, len(defs))}
	nodes := make([]*Node, 0, len(defs))
	for i := range defs {
		n, err := newNode(defs[i])
		if err != nil {
			return nil, err
		}
		if prev, dup := g.byAddress[n.Address]; dup {
			return nil, fmt.Errorf("node %s is defined twice (%s and %s); "+
				"every address must be unique", n.Address, sourceOrUnknown(prev.Source),
				sourceOrUnknown(n.Source))
		}
		g.byAddress[n.Address] = n
		nodes = append(nodes, n)
	}

	if err := g.resolveInputs(nodes); err != nil {
		return nil, err
	}
	order, err := topologicalOrder(nodes)
	if err != nil {
		return nil, err
	}
	g.Nodes = order

	if err := computeKeys(order); err != nil {
		return nil, err
	}
	return g, nil
}

// parallelKeysMin is the number of nodes of one level below which their
// keys are computed on one goroutine.
const parallelKeysMin = 512

// computeKeys computes the keys of nodes in topological order, level by
// level: a node's level is one more than the deepest level of its inputs,
// so the nodes of one level read only keys of earlier levels, and large
// levels are split among GOMAXPROCS goroutines. On failure it returns the
// error of the first failing node, in topological order, of the lowest
// level that has one.
func computeKeys(order []*Node) error {
	level := make(map[*Node]int, len(order))
	var levels [][]*Node
	for _, n := range order {
		l := 0
		for _, in := range n.In {
			l = max(l, level[in.Node]+1)
		}
		level[n] = l
		if l == len(levels) {
			levels = append(levels, nil)
		}
		levels[l] = append(levels[l], n)
	}

	for _, nodes := range levels {
		for _, err := range computeLevel(nodes) {
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// computeLevel computes the keys of nodes whose inputs have keys. It
// returns the error of each node, or nil when all succeeded.
func computeLevel(nodes []*Node) []error {
	workers := min(runtime.GOMAXPROCS(0), len(nodes)/parallelKeysMin+1)
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	chunk := (len(nodes) + workers - 1) / workers
	for start := 0; start < len(nodes); start += chunk {
		part := nodes[start:min(start+chunk, len(nodes))]
		offset := start
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, n := range part {
				if err := n.computeKey(); err != nil {
					mu.Lock()
					if errs == nil {
						errs = make([]error, len(nodes))
					}
					errs[offset+i] = err
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return errs
}

func newNode(d Def) (*Node, error) {
	where := d.Address
	if d.Source != "" {
		where += " (" + d.Source + ")"
	}
	switch {
	case d.Address == "":
		return nil, fmt.Errorf("node at %s has an empty address", sourceOrUnknown(d.Source))
	case d.Type == "":
		return nil, fmt.Errorf("node %s has no type", where)
	case d.Kind == "":
		return nil, fmt.Errorf("node %s has no kind", where)
	case d.Version == "":
		return nil, fmt.Errorf("node %s has no implementation version; "+
			"every kind must declare one so that a change of its outputs reruns it", where)
	}

	inputs := slices.Clone(d.Inputs)
	slices.SortFunc(inputs, func(a, b InputRef) int { return strings.Compare(a.Role, b.Role) })
	for i, in := range inputs {
		if in.Role == "" {
			return nil, fmt.Errorf("node %s has an input with an empty role", where)
		}
		if i > 0 && inputs[i-1].Role == in.Role {
			return nil, fmt.Errorf("node %s has two inputs with role %q; "+
				"a node has at most one input per role", where, in.Role)
		}
	}
	d.Inputs = inputs
	return &Node{Def: d}, nil
}

func (g *Graph) resolveInputs(nodes []*Node) error {
	for _, n := range nodes {
		n.In = make([]Input, len(n.Inputs))
		for i, ref := range n.Inputs {
			target := g.byAddress[ref.Address]
			if target == nil {
				return fmt.Errorf("node %s: input %q refers to %s, which is not defined%s",
					describeNode(n), ref.Role, ref.Address, g.suggest(ref.Address))
			}
			n.In[i] = Input{Role: ref.Role, Node: target}
		}
	}
	return nil
}

// suggest returns a hint naming up to three addresses of the same block
// as a missing address, which happens when a reference leaves out or
// misspells a sweep axis.
func (g *Graph) suggest(missing string) string {
	block, _, _ := strings.Cut(missing, "[")
	var similar []string
	for address := range g.byAddress {
		if b, _, _ := strings.Cut(address, "["); b == block {
			similar = append(similar, address)
		}
	}
	if len(similar) == 0 {
		return ""
	}
	slices.Sort(similar)
	if len(similar) > 3 {
		similar = append(similar[:3], "...")
	}
	return "; defined nodes of that block are " + strings.Join(similar, ", ")
}

func (n *Node) computeKey() error {
	inputs := make([]InputKey, len(n.In))
	for i, in := range n.In {
		inputs[i] = InputKey{Role: in.Role, Key: in.Node.Key}
	}
	key, err := ComputeKey(n.Type, n.Kind, n.Version, n.Params, inputs)
	if err != nil {
		return fmt.Errorf("node %s: %w", describeNode(n), err)
	}
	n.Key = key
	n.RunID = RunIDOf(key)
	return nil
}

// topologicalOrder runs Kahn's algorithm with the ready nodes in a heap
// ordered by address (CompareAddresses, so step=200 before step=1000),
// so that the order depends only on the graph. The heap holds each node's
// rank in address order, which is cheaper to compare than the address.
func topologicalOrder(nodes []*Node) ([]*Node, error) {
	byAddress := slices.Clone(nodes)
	slices.SortFunc(byAddress, func(a, b *Node) int { return CompareAddresses(a.Address, b.Address) })
	rank := make(map[*Node]int, len(nodes))
	for i, n := range byAddress {
		rank[n] = i
	}

	pending := make([]int, len(nodes))
	dependents := make([][]int, len(nodes))
	ready := &rankHeap{}
	for i, n := range byAddress {
		pending[i] = len(n.In)
		for _, in := range n.In {
			r := rank[in.Node]
			dependents[r] = append(dependents[r], i)
		}
		if len(n.In) == 0 {
			*ready = append(*ready, i)
		}
	}
	// The ranks were appended in increasing order, so ready is a heap.
	order := make([]*Node, 0, len(nodes))
	for len(*ready) > 0 {
		i := ready.pop()
		order = append(order, byAddress[i])
		for _, d := range dependents[i] {
			pending[d]--
			if pending[d] == 0 {
				ready.push(d)
			}
		}
	}
	if len(order) < len(nodes) {
		unordered := make(map[*Node]int, len(nodes)-len(order))
		for i, n := range byAddress {
			if pending[i] > 0 {
				unordered[n] = pending[i]
			}
		}
		return nil, cycleError(nodes, unordered)
	}
	return order, nil
}

// cycleError describes one cycle among the nodes that Kahn's algorithm
// could not order. Every such node has an unordered input, so following
// unordered inputs from the first of them by address must revisit a node.
func cycleError(nodes []*Node, pending map[*Node]int) error {
	var start *Node
	for _, n := range nodes {
		if pending[n] > 0 && (start == nil || n.Address < start.Address) {
			start = n
		}
	}

	seen := map[*Node]int{}
	var path []*Node
	for n := start; ; {
		if i, ok := seen[n]; ok {
			path = append(path[i:], n)
			break
		}
		seen[n] = len(path)
		path = append(path, n)
		n = firstUnordered(n, pending)
	}

	names := make([]string, len(path))
	for i, n := range path {
		names[i] = describeNode(n)
	}
	return fmt.Errorf("dependency cycle: %s (each node reads the next); "+
		"remove one of these references",
		strings.Join(names, " -> "))
}

func firstUnordered(n *Node, pending map[*Node]int) *Node {
	for _, in := range n.In {
		if pending[in.Node] > 0 {
			return in.Node
		}
	}
	panic("graph: node " + n.Address + " in a cycle has no unordered input")
}

func describeNode(n *Node) string {
	if n.Source == "" {
		return n.Address
	}
	return n.Address + " (" + n.Source + ")"
}

func sourceOrUnknown(source string) string {
	if source == "" {
		return "an unknown source"
	}
	return source
}

// rankHeap is a binary min-heap of node ranks in address order.
type rankHeap []int

func (h *rankHeap) push(r int) {
	*h = append(*h, r)
	a := *h
	for i := len(a) - 1; i > 0; {
		parent := (i - 1) / 2
		if a[parent] <= a[i] {
			break
		}
		a[parent], a[i] = a[i], a[parent]
		i = parent
	}
}

func (h *rankHeap) pop() int {
	a := *h
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	a = a[:last]
	for i := 0; ; {
		smallest, left, right := i, 2*i+1, 2*i+2
		if left < len(a) && a[left] < a[smallest] {
			smallest = left
		}
		if right < len(a) && a[right] < a[smallest] {
			smallest = right
		}
		if smallest == i {
			break
		}
		a[i], a[smallest] = a[smallest], a[i]
		i = smallest
	}
	*h = a
	return top
}
