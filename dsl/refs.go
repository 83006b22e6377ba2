package dsl

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// item is a vertex of the dependency graph: a local value or a node block.
type item struct {
	typ   string // "local" or a node block type
	name  string
	attr  *hclsyntax.Attribute   // a local's definition
	block *hclsyntax.Block       // a node block
	attrs []*hclsyntax.Attribute // a node block's attributes other than kind, in source order

	kind   string
	kindOK bool
	broken bool // declared in a file with syntax errors, so not evaluated

	refs []*reference
	// refErr marks a local whose expression has an invalid reference, and
	// badAttr the attributes of a block that have one. Those are not
	// evaluated, because the reference is already reported.
	refErr  bool
	badAttr []bool
	// constant caches the values of attributes that are the same for every
	// instance (see constantAttributes); nil until the first evaluation.
	constant []constantAttr
	// source is "FILE:LINE" of a node block, for Def.Source; empty until
	// the first definition.
	source string
	deps   []*item // distinct locals and blocks referred to, in order of first reference
	cyclic bool

	axes           []int // indices into loader.axes, ascending
	dependsOnBlock bool  // refers to a node block, directly or through locals

	// values has one value per instance, indexed by the mixed-radix number
	// of the instance's axis value indices (first axis most significant).
	// It is nil until the item is evaluated, and stays nil when it cannot
	// be.
	values []cty.Value
}

func (it *item) address() string {
	return it.typ + "." + it.name
}

// definitionRange returns where an item is defined: the local's name or the
// block's type and label.
func (it *item) definitionRange() hcl.Range {
	if it.block != nil {
		return it.block.DefRange()
	}
	return it.attr.NameRange
}

func (it *item) expressions() []hclsyntax.Expression {
	if it.block == nil {
		return []hclsyntax.Expression{it.attr.Expr}
	}
	exprs := make([]hclsyntax.Expression, len(it.attrs))
	for i, a := range it.attrs {
		exprs[i] = a.Expr
	}
	return exprs
}

// reference is one valid traversal in an expression.
type reference struct {
	root   string // "var", "local", "sweep" or a node block type
	name   string
	rng    hcl.Range
	target *item // for local and block references
	axis   *axis // for sweep references
}

// scope selects which references an expression may make.
type scope int

const (
	scopeSweep   scope = iota // sweep axes: var only
	scopeBackend              // backend blocks: var and local
	scopeModel                // model blocks: everything but dataset, erm, target and sampler
	scopeNode                 // locals and other node blocks: everything but sampler
)

// referenceRoots are the names a reference may start with.
var referenceRoots = []string{"var", "local", "sweep", "dataset", "model", "erm", "target"}

// collectReferences finds the references of every item and backend block
// from the traversals of their expressions, without evaluating anything.
func (l *loader) collectReferences() {
	for _, ax := range l.axes {
		_, ok := l.references(ax.attr.Expr, scopeSweep)
		ax.refErr = !ok
	}
	for _, it := range l.items {
		sc := scopeNode
		if it.typ == "model" {
			sc = scopeModel
		}
		exprs := it.expressions()
		it.badAttr = make([]bool, len(exprs))
		for i, expr := range exprs {
			refs, ok := l.references(expr, sc)
			it.refs = append(it.refs, refs...)
			it.badAttr[i] = !ok
			it.refErr = it.refErr || !ok
		}
		for _, r := range it.refs {
			if r.target != nil && !slices.Contains(it.deps, r.target) {
				it.deps = append(it.deps, r.target)
			}
		}
	}
	for _, be := range l.backendOrder {
		for _, a := range be.attrs {
			refs, ok := l.references(a.Expr, scopeBackend)
			be.refs = append(be.refs, refs...)
			be.refErr = be.refErr || !ok
		}
	}
}

// references checks the traversals of one expression and returns the valid
// ones. The bool is false when any was invalid.
func (l *loader) references(expr hclsyntax.Expression, sc scope) ([]*reference, bool) {
	var refs []*reference
	ok := true
	for _, t := range expr.Variables() {
		r := l.reference(t, expr, sc)
		if r == nil {
			ok = false
			continue
		}
		refs = append(refs, r)
	}
	return refs, ok
}

func (l *loader) reference(t hcl.Traversal, expr hclsyntax.Expression, sc scope) *reference {
	root := t.RootName()
	rng := t.SourceRange()
	context := expr.Range().Ptr()
	if !slices.Contains(referenceRoots, root) && root != "sampler" {
		l.errorAt(rng, context, "Invalid reference", fmt.Sprintf(
			"There is nothing named %q to refer to. A reference starts with one of: %s.%s",
			root, strings.Join(referenceRoots, ", "), didYouMean(root, referenceRoots)))
		return nil
	}

	var name string
	if len(t) > 1 {
		if step, isAttr := t[1].(hcl.TraverseAttr); isAttr {
			name = step.Name
		}
	}
	if name == "" {
		l.errorAt(rng, context, "Invalid reference", fmt.Sprintf(
			"A reference to %s must name what it refers to, as in %s.NAME.", root, root))
		return nil
	}
	if msg := scopeError(root, sc); msg != "" {
		l.errorAt(rng, context, "Invalid reference", msg)
		return nil
	}

	r := &reference{root: root, name: name, rng: rng}
	if summary, detail := l.resolve(r); summary != "" {
		l.errorAt(rng, context, summary, detail)
		return nil
	}
	return r
}

// resolve points r at the variable, local, axis or block it names, or
// returns the summary and detail of the error when there is none.
func (l *loader) resolve(r *reference) (string, string) {
	name := r.name
	switch r.root {
	case "var":
		if l.variables[name] == nil {
			return "Reference to undeclared input variable", fmt.Sprintf(
				"No variable named %q is declared. Declare it with a variable %q block, or use one of the declared variables: %s.%s",
				name, name, nameList(l.variableNames()), didYouMean(name, l.variableNames()))
		}
	case "local":
		r.target = l.locals[name]
		if r.target == nil {
			names := sortedKeys(l.locals)
			return "Reference to undeclared local value", fmt.Sprintf(
				"No local value named %q is defined in a locals block. Defined local values: %s.%s",
				name, nameList(names), didYouMean(name, names))
		}
	case "sweep":
		r.axis = l.axisByName[name]
		if r.axis == nil {
			names := make([]string, len(l.axes))
			for i, ax := range l.axes {
				names[i] = ax.name
			}
			return "Reference to undeclared sweep axis", fmt.Sprintf(
				"The sweep block has no axis named %q. Declared axes: %s.%s",
				name, nameList(names), didYouMean(name, names))
		}
	default:
		r.target = l.blocks[r.root][name]
		if r.target == nil {
			names := sortedKeys(l.blocks[r.root])
			return fmt.Sprintf("Reference to undeclared %s block", r.root), fmt.Sprintf(
				"No %s block named %q is defined. Defined %s blocks: %s.%s",
				r.root, name, r.root, nameList(names), didYouMean(name, names))
		}
	}
	return "", ""
}

// scopeError returns why a reference root is not allowed in a scope, or "".
func scopeError(root string, sc scope) string {
	if root == "sampler" {
		return "A sampler block cannot be referenced, because nothing reads a sampler's output within a configuration. Refer to dataset, erm or target blocks instead."
	}
	switch sc {
	case scopeSweep:
		if root != "var" {
			return fmt.Sprintf("Sweep axis values can refer only to variables (var.NAME), not to %s.", root)
		}
	case scopeBackend:
		if root != "var" && root != "local" {
			return fmt.Sprintf("Backend settings are evaluated once for the whole workflow, so they can refer only to var.NAME and local.NAME, not to %s.", root)
		}
	case scopeModel:
		if root == "dataset" || root == "erm" || root == "target" {
			return fmt.Sprintf("A model block is inlined into the blocks that use it, so it cannot refer to a %s block. Set the %s on the erm block instead.", root, root)
		}
	}
	return ""
}

// sortItems orders the items so that every item follows the items it
// refers to, and reports each cycle. Items on a cycle are left out.
func (l *loader) sortItems() []*item {
	l.markCycles()
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[*item]int{}
	var order []*item
	var visit func(it *item)
	visit = func(it *item) {
		if state[it] != unvisited || it.cyclic {
			return
		}
		state[it] = visiting
		for _, dep := range it.deps {
			visit(dep)
		}
		state[it] = done
		order = append(order, it)
	}
	for _, it := range l.items {
		visit(it)
	}
	return order
}

// markCycles finds the strongly connected components of the dependency
// graph (Tarjan's algorithm) and reports one cycle in each component that
// has one.
func (l *loader) markCycles() {
	index := map[*item]int{}
	low := map[*item]int{}
	onStack := map[*item]bool{}
	var stack []*item
	next := 0
	var connect func(it *item)
	connect = func(it *item) {
		index[it], low[it] = next, next
		next++
		stack = append(stack, it)
		onStack[it] = true
		for _, dep := range it.deps {
			if _, seen := index[dep]; !seen {
				connect(dep)
				low[it] = min(low[it], low[dep])
			} else if onStack[dep] {
				low[it] = min(low[it], index[dep])
			}
		}
		if low[it] != index[it] {
			return
		}
		var component []*item
		for {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[top] = false
			component = append(component, top)
			if top == it {
				break
			}
		}
		if len(component) > 1 || slices.Contains(it.deps, it) {
			l.reportCycle(component)
		}
	}
	for _, it := range l.items {
		if _, seen := index[it]; !seen {
			connect(it)
		}
	}
}

// reportCycle marks a component's items cyclic and reports one cycle
// through the component's first item in source order. The diagnostic's
// subject is the first reference on the cycle and its related ranges are
// the other references, so that both ends of every edge are shown.
func (l *loader) reportCycle(component []*item) {
	inComponent := map[*item]bool{}
	for _, it := range component {
		it.cyclic = true
		inComponent[it] = true
	}
	start := component[0]
	for _, it := range l.items {
		if inComponent[it] {
			start = it
			break
		}
	}
	path := cyclePath(start, inComponent)
	names := make([]string, len(path)+1)
	var ranges []hcl.Range
	for i, it := range path {
		names[i] = it.address()
		nextItem := path[(i+1)%len(path)]
		ranges = append(ranges, it.referenceRange(nextItem))
	}
	names[len(path)] = start.address()
	d := l.errorAt(ranges[0], nil, "Cycle in references", fmt.Sprintf(
		"These values refer to each other in a cycle, so none of them can be evaluated: %s. Remove one of the references.",
		strings.Join(names, " → ")))
	addRelated(d, ranges[1:]...)
}

// cyclePath returns a shortest path of items from start back to start
// within one strongly connected component, without repeating start at the
// end.
func cyclePath(start *item, inComponent map[*item]bool) []*item {
	parent := map[*item]*item{}
	queue := []*item{start}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		for _, dep := range it.deps {
			if !inComponent[dep] {
				continue
			}
			if dep == start {
				var path []*item
				for at := it; at != start; at = parent[at] {
					path = append(path, at)
				}
				path = append(path, start)
				slices.Reverse(path)
				return path
			}
			if _, seen := parent[dep]; !seen {
				parent[dep] = it
				queue = append(queue, dep)
			}
		}
	}
	return []*item{start}
}

// referenceRange returns the range of the first reference from it to
// target.
func (it *item) referenceRange(target *item) hcl.Range {
	for _, r := range it.refs {
		if r.target == target {
			return r.rng
		}
	}
	return it.definitionRange()
}

// computeAxes gives every item the sweep axes it depends on: those it
// refers to directly and those of every item it refers to.
func (l *loader) computeAxes(order []*item) {
	for _, it := range order {
		used := make([]bool, len(l.axes))
		for _, r := range it.refs {
			if r.axis != nil {
				used[r.axis.index] = true
			}
		}
		for _, dep := range it.deps {
			if dep.cyclic {
				continue
			}
			for _, a := range dep.axes {
				used[a] = true
			}
			it.dependsOnBlock = it.dependsOnBlock || dep.typ != "local" || dep.dependsOnBlock
		}
		for i, u := range used {
			if u {
				it.axes = append(it.axes, i)
			}
		}
	}
}
