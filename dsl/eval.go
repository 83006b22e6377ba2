package dsl

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/llcflow/llcflow/graph"
)

// evaluateSweep evaluates the axes of the sweep block with variables only.
// Each axis is a non-empty list of distinct numbers, strings or bools.
func (l *loader) evaluateSweep() {
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": l.varObject},
		Functions: l.funcs,
	}
	for _, ax := range l.axes {
		if ax.broken || ax.refErr || !l.evaluateAxis(ax, ctx) {
			ax.failed = true
			ax.values = []cty.Value{cty.DynamicVal}
			ax.goValues = nil
		}
	}
}

func (l *loader) evaluateAxis(ax *axis, ctx *hcl.EvalContext) bool {
	expr := ax.attr.Expr
	subject, context := expr.Range(), ax.attr.SrcRange.Ptr()
	val, diags := expr.Value(ctx)
	l.extend(diags)
	if diags.HasErrors() || !val.IsWhollyKnown() {
		return false
	}
	ty := val.Type()
	if val.IsNull() || !(ty.IsListType() || ty.IsTupleType() || ty.IsSetType()) {
		l.errorAt(subject, context, "Invalid sweep axis", fmt.Sprintf(
			"The sweep axis %q must be a list of numbers, strings or bools, such as [0, 1, 2], but its value is %s.",
			ax.name, friendlyType(val)))
		return false
	}
	if val.LengthInt() == 0 {
		l.errorAt(subject, context, "Empty sweep axis", fmt.Sprintf(
			"The sweep axis %q has no values, so no block that uses it would have an instance. Give it at least one value or remove the axis.",
			ax.name))
		return false
	}
	first := map[any]int{}
	for it := val.ElementIterator(); it.Next(); {
		_, elem := it.Element()
		i := len(ax.values)
		g, msg := axisValue(elem)
		if msg != "" {
			l.errorAt(subject, context, "Invalid sweep axis", fmt.Sprintf(
				"Element %d of the sweep axis %q %s. Each value must be a number, a string or a bool.", i, ax.name, msg))
			return false
		}
		if j, dup := first[g]; dup {
			l.errorAt(subject, context, "Duplicate sweep value", fmt.Sprintf(
				"The sweep axis %q lists %s twice (elements %d and %d), which would give two instances the same address. Remove one of them.",
				ax.name, formatLiteral(g), j, i))
			return false
		}
		first[g] = i
		ax.goValues = append(ax.goValues, g)
		ax.values = append(ax.values, goAxisValue(g))
	}
	return true
}

// axisValue converts one sweep value to Go, or returns what is wrong with it.
func axisValue(v cty.Value) (any, string) {
	if v.IsNull() {
		return nil, "is null"
	}
	switch v.Type() {
	case cty.String:
		return v.AsString(), ""
	case cty.Bool:
		return v.True(), ""
	case cty.Number:
		f, err := numberToFloat(v.AsBigFloat(), "")
		if err != nil {
			return nil, "is invalid: " + err.Error()
		}
		return f, ""
	}
	return nil, "is " + friendlyType(v)
}

// goAxisValue is the cty value that sweep.NAME evaluates to. Numbers are
// the float64 of the address, so parameters and addresses agree.
func goAxisValue(g any) cty.Value {
	switch x := g.(type) {
	case string:
		return cty.StringVal(x)
	case bool:
		return cty.BoolVal(x)
	default:
		return cty.NumberFloatVal(x.(float64))
	}
}

func friendlyType(v cty.Value) string {
	if v.IsNull() {
		return "null"
	}
	return "a value of type " + v.Type().FriendlyName()
}

// evaluateItems evaluates every instance of every item in dependency order
// and collects the node definitions.
func (l *loader) evaluateItems(order []*item) {
	l.defs = make([]graph.Def, 0, l.defCount(order))
	for _, it := range order {
		n, ok := l.instanceCount(it.axes)
		if !ok {
			l.errorAt(it.definitionRange(), nil, "Too many instances", fmt.Sprintf(
				"%s depends on the sweep axes %s, whose combinations exceed %d instances. Remove values from these axes.",
				it.address(), strings.Join(l.axisNames(it.axes), ", "), maxInstances))
			continue
		}
		values := make([]cty.Value, n)
		combo := make([]int, len(l.axes))
		for ordinal := range n {
			l.decodeOrdinal(it, ordinal, combo)
			if it.typ == "local" {
				values[ordinal] = l.evaluateLocal(it, combo)
			} else {
				values[ordinal] = l.evaluateBlock(it, combo)
			}
		}
		it.values = values
	}
}

// defCount returns the number of node definitions that the items can
// give, so that the definitions of a large sweep are not copied while
// they are collected.
func (l *loader) defCount(order []*item) int {
	total := 0
	for _, it := range order {
		if it.typ == "local" || it.typ == "model" {
			continue
		}
		if n, ok := l.instanceCount(it.axes); ok {
			total += n
		}
	}
	return total
}

func (l *loader) instanceCount(axes []int) (int, bool) {
	n := 1
	for _, a := range axes {
		n *= len(l.axes[a].values)
		if n > maxInstances {
			return 0, false
		}
	}
	return n, true
}

// decodeOrdinal sets combo's entries for the item's axes from an instance
// number. The first axis varies slowest.
func (l *loader) decodeOrdinal(it *item, ordinal int, combo []int) {
	for i := len(it.axes) - 1; i >= 0; i-- {
		a := it.axes[i]
		n := len(l.axes[a].values)
		combo[a] = ordinal % n
		ordinal /= n
	}
}

// valueAt returns the instance of it that matches combo on it's axes, or an
// unknown value when it could not be evaluated.
func (l *loader) valueAt(it *item, combo []int) cty.Value {
	if it.values == nil {
		return cty.DynamicVal
	}
	ordinal := 0
	for _, a := range it.axes {
		ordinal = ordinal*len(l.axes[a].values) + combo[a]
	}
	return it.values[ordinal]
}

func (l *loader) axisNames(axes []int) []string {
	names := make([]string, len(axes))
	for i, a := range axes {
		names[i] = l.axes[a].name
	}
	return names
}

// evalContext binds what refs refer to, for the instance given by combo.
// Every referenced block or local resolves to its instance with the same
// values on the axes it depends on.
func (l *loader) evalContext(refs []*reference, combo []int) *hcl.EvalContext {
	groups := map[string]map[string]cty.Value{}
	for _, r := range refs {
		if r.root == "var" {
			continue
		}
		v := l.referenceValue(r, combo)
		if groups[r.root] == nil {
			groups[r.root] = map[string]cty.Value{}
		}
		groups[r.root][r.name] = v
	}
	vars := map[string]cty.Value{"var": l.varObject}
	for root, values := range groups {
		vars[root] = cty.ObjectVal(values)
	}
	return &hcl.EvalContext{Variables: vars, Functions: l.funcs}
}

func (l *loader) evaluateLocal(it *item, combo []int) cty.Value {
	if it.broken || it.refErr {
		return cty.DynamicVal
	}
	val, diags := it.attr.Expr.Value(l.evalContext(it.refs, combo))
	l.extend(diags)
	if diags.HasErrors() {
		return cty.DynamicVal
	}
	return val
}

// evaluateBlock evaluates one instance of a node block, normalizes its
// attributes and records its node definition. It returns what a reference
// to the instance evaluates to: a Ref for dataset, erm and target blocks,
// and the normalized parameters for a model block.
func (l *loader) evaluateBlock(it *item, combo []int) cty.Value {
	axisValues, known := l.instanceAxes(it, combo)
	address := formatAddress(it.typ, it.name, l.axisNames(it.axes), axisValues)

	self := cty.DynamicVal
	switch {
	case it.typ == "model" || it.typ == "sampler":
	case known:
		self = refValue(Ref{Type: it.typ, Name: it.name, Address: address})
	default:
		self = cty.UnknownVal(refType)
	}
	if it.broken {
		return self
	}

	attrs, ok := l.evaluateAttributes(it, combo)
	if !ok || !it.kindOK || !known {
		return self
	}

	var params nodeParams
	if reg := l.opts.Registry; reg == nil {
		params = splitRefs(attrs)
	} else {
		var fieldErrors []FieldError
		params, fieldErrors = l.normalize(reg, it, attrs)
		for _, fe := range fieldErrors {
			l.fieldError(it, fe)
		}
		if len(fieldErrors) > 0 {
			return self
		}
	}

	if it.typ == "model" {
		// A model block cannot refer to a dataset, erm or target block, so
		// its parameters have no references.
		return l.modelValue(it, params.plain)
	}
	l.addDef(it, address, axisValues, params)
	return self
}

// instanceAxes returns the Go values of the item's axes at combo, and false
// when an axis failed to evaluate.
func (l *loader) instanceAxes(it *item, combo []int) ([]any, bool) {
	values := make([]any, len(it.axes))
	for i, a := range it.axes {
		ax := l.axes[a]
		if ax.failed {
			return values, false
		}
		values[i] = ax.goValues[combo[a]]
	}
	return values, true
}

// evaluateAttributes evaluates a block instance's attributes to the Go
// values that Normalize receives. It returns false when any attribute has
// an error, is unknown because something it depends on failed, or contains a
// reference that is not the attribute's whole value.
func (l *loader) evaluateAttributes(it *item, combo []int) (map[string]any, bool) {
	if it.constant == nil {
		it.constant = constantAttributes(it.attrs, it.refs)
	}
	var ctx *hcl.EvalContext
	attrs := make(map[string]any, len(it.attrs))
	ok := true
	for i, a := range it.attrs {
		if it.badAttr[i] {
			ok = false
			continue
		}
		if g, done := it.constant[i].value, it.constant[i].done; done && reuseAcrossInstances {
			attrs[a.Name] = g
			continue
		}
		var val cty.Value
		var diags hcl.Diagnostics
		if r := it.constant[i].ref; r != nil && reuseAcrossInstances {
			val = l.referenceValue(r, combo)
		} else {
			if ctx == nil {
				ctx = l.evalContext(it.refs, combo)
			}
			val, diags = a.Expr.Value(ctx)
			l.extend(diags)
		}
		if diags.HasErrors() || !val.IsWhollyKnown() {
			ok = false
			continue
		}
		if containsNestedRef(val) {
			l.errorAt(a.Expr.Range(), a.SrcRange.Ptr(), "Invalid use of a block reference", fmt.Sprintf(
				"The value of %q contains a reference to a dataset, erm or target block inside a list or object. A reference must be the whole value of an attribute, as in dataset = dataset.NAME.",
				a.Name))
			ok = false
			continue
		}
		g, err := toGo(val)
		if err != nil {
			l.errorAt(a.Expr.Range(), a.SrcRange.Ptr(), "Invalid value", fmt.Sprintf(
				"The value of %q cannot be used: %v.", a.Name, err))
			ok = false
			continue
		}
		attrs[a.Name] = g
		if it.constant[i].same {
			it.constant[i].value, it.constant[i].done = g, true
		}
	}
	return attrs, ok
}

// constantAttr is the cached value of one attribute of a block. Same is
// true when the attribute's expression refers to nothing but variables, so
// that it has one value for every instance of the block. Value is that
// value once done is true, and the instances share it, read-only like all
// parameters. Ref is the reference when the whole expression is one, such
// as erm.fit or sweep.seed, and nil otherwise.
type constantAttr struct {
	same, done bool
	value      any
	ref        *reference
}

// constantAttributes marks the attributes whose expressions refer to
// nothing but variables or are a bare reference to an item without axes,
// and those that are a bare reference to one of refs. Functions are pure,
// so an expression of variables has one value per load.
func constantAttributes(attrs []*hclsyntax.Attribute, refs []*reference) []constantAttr {
	out := make([]constantAttr, len(attrs))
	for i, a := range attrs {
		out[i].same = true
		for _, t := range a.Expr.Variables() {
			if t.RootName() != "var" {
				out[i].same = false
				break
			}
		}
		if !out[i].same {
			out[i].ref = bareReference(a.Expr, refs)
			// An item without axes has one instance, so a reference to it
			// has one value too.
			r := out[i].ref
			out[i].same = r != nil && r.target != nil && len(r.target.axes) == 0
		}
	}
	return out
}

// bareReference returns the reference among refs that expr consists of,
// written as ROOT.NAME, or nil when expr is anything else.
func bareReference(expr hclsyntax.Expression, refs []*reference) *reference {
	traversal, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(traversal.Traversal) != 2 {
		return nil
	}
	root, ok := traversal.Traversal[0].(hcl.TraverseRoot)
	if !ok || root.Name == "var" {
		return nil
	}
	attr, ok := traversal.Traversal[1].(hcl.TraverseAttr)
	if !ok {
		return nil
	}
	for _, r := range refs {
		if r.root == root.Name && r.name == attr.Name && (r.target != nil || r.axis != nil) {
			return r
		}
	}
	return nil
}

// referenceValue returns the value of a reference at combo: what the
// expression ROOT.NAME evaluates to in evalContext, without building the
// context, which took much of the loading time of large sweeps.
func (l *loader) referenceValue(r *reference, combo []int) cty.Value {
	if r.axis != nil {
		return r.axis.values[combo[r.axis.index]]
	}
	return l.valueAt(r.target, combo)
}

// fieldError reports a problem found by Normalize at the attribute it names
// or, when there is no such attribute, at the block's label.
func (l *loader) fieldError(it *item, fe FieldError) {
	summary := fe.Summary
	if summary == "" {
		summary = "Invalid value"
	}
	if a := it.attribute(fe.Attr); a != nil {
		l.errorAt(a.NameRange, a.SrcRange.Ptr(), summary, fe.Detail)
		return
	}
	l.errorAt(it.block.LabelRanges[0], it.block.DefRange().Ptr(), summary, fe.Detail)
}

func (it *item) attribute(name string) *hclsyntax.Attribute {
	if name == "" {
		return nil
	}
	if name == "kind" {
		return it.block.Body.Attributes["kind"]
	}
	for _, a := range it.attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// modelValue builds what a reference to a model instance inlines: its
// normalized parameters with "kind" added.
func (l *loader) modelValue(it *item, params map[string]any) cty.Value {
	inlined := make(map[string]any, len(params)+1)
	for k, v := range params {
		inlined[k] = v
	}
	inlined["kind"] = it.kind
	v, err := fromGo(inlined)
	if err != nil {
		l.errorAt(it.block.LabelRanges[0], it.block.DefRange().Ptr(), "Invalid model parameters", fmt.Sprintf(
			"The registry returned parameters for %s that cannot be inlined: %v. This is a bug in the %q kind.",
			it.address(), err, it.kind))
		return cty.DynamicVal
	}
	return v
}

// addDef records a node definition.
func (l *loader) addDef(it *item, address string, axisValues []any, params nodeParams) {
	if it.source == "" {
		it.source = position(it.block.TypeRange)
	}
	def := graph.Def{
		Address: address,
		Type:    it.typ,
		Name:    it.name,
		Kind:    it.kind,
		Params:  params.plain,
		Inputs:  params.inputs,
		Source:  it.source,
	}
	if reg := l.opts.Registry; reg != nil {
		def.Version = reg.Version(it.typ, it.kind)
	}
	for i, a := range it.axes {
		def.Axes = append(def.Axes, graph.AxisValue{Name: l.axes[a].name, Value: axisValues[i]})
	}
	l.defs = append(l.defs, def)
}

// nodeParams are the parameters of a block instance as a Def holds them.
type nodeParams struct {
	// plain are the parameters without the references. The instances of
	// a block that reuse a Normalize result share this map, read-only.
	plain map[string]any
	// inputs are the references, sorted by role; nil when there are none.
	inputs []graph.InputRef
}

// splitRefs moves every top-level parameter that is a Ref into an input
// edge, in a new map.
func splitRefs(params map[string]any) nodeParams {
	out := nodeParams{plain: make(map[string]any, len(params))}
	for k, v := range params {
		switch r := v.(type) {
		case Ref:
			out.inputs = append(out.inputs, graph.InputRef{Role: k, Address: r.Address})
		case *Ref:
			out.inputs = append(out.inputs, graph.InputRef{Role: k, Address: r.Address})
		default:
			out.plain[k] = v
		}
	}
	sort.Slice(out.inputs, func(i, j int) bool { return out.inputs[i].Role < out.inputs[j].Role })
	return out
}

// evaluateBackends evaluates each backend block once. The locals a backend
// uses must not depend on sweep axes or blocks, because there is a single
// backend configuration per workflow.
func (l *loader) evaluateBackends() map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, be := range l.backendOrder {
		if be.broken {
			continue
		}
		ok := !be.refErr
		for _, r := range be.refs {
			if r.target != nil && (len(r.target.axes) > 0 || r.target.dependsOnBlock) {
				l.errorAt(r.rng, nil, "Invalid reference", fmt.Sprintf(
					"Backend settings are evaluated once for the whole workflow, so they cannot use local.%s, which depends on sweep axes or blocks.",
					r.name))
				ok = false
			}
		}
		if !ok {
			continue
		}
		ctx := l.evalContext(be.refs, make([]int, len(l.axes)))
		settings := map[string]any{}
		for _, a := range be.attrs {
			val, diags := a.Expr.Value(ctx)
			l.extend(diags)
			if diags.HasErrors() || !val.IsWhollyKnown() {
				continue
			}
			g, err := toGo(val)
			if err != nil {
				l.errorAt(a.Expr.Range(), a.SrcRange.Ptr(), "Invalid value", fmt.Sprintf(
					"The value of %q cannot be used: %v.", a.Name, err))
				continue
			}
			settings[a.Name] = g
		}
		out[be.label] = settings
	}
	return out
}
