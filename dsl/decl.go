package dsl

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// nodeBlockTypes are the block types that describe pipeline steps. Every
// one but model becomes graph nodes, and a model is inlined where it is
// referenced.
var nodeBlockTypes = []string{"dataset", "model", "erm", "target", "sampler"}

// blockTypes are the valid top-level block types.
var blockTypes = []string{
	"variable", "locals", "sweep", "preset",
	"dataset", "model", "erm", "target", "sampler",
	"backend",
}

// backendLabels are the executors a backend block can configure.
var backendLabels = []string{"local", "modal", "slurm"}

// variableAttributes are the attributes of a variable block.
var variableAttributes = []string{"type", "default", "description"}

// variable is a declared input variable and the value it ends up with.
type variable struct {
	name        string
	block       *hclsyntax.Block
	broken      bool
	typ         cty.Type
	typeOK      bool
	defaultAttr *hclsyntax.Attribute
	// value is the value from the source with the highest precedence seen
	// so far, cty.NilVal while none is set, and cty.DynamicVal after an
	// invalid one.
	value cty.Value
}

// preset is a named set of variable values.
type preset struct {
	name   string
	block  *hclsyntax.Block
	broken bool
	values map[string]cty.Value // checked and converted to each variable's type
}

// axis is one attribute of the sweep block.
type axis struct {
	name   string
	index  int
	attr   *hclsyntax.Attribute
	broken bool
	// values are the axis values. An axis that failed to evaluate has one
	// unknown value, so that the blocks using it are still checked once.
	values   []cty.Value
	goValues []any
	refErr   bool
	failed   bool
}

// backend is a backend block, evaluated once with variables and locals.
type backend struct {
	label  string
	block  *hclsyntax.Block
	broken bool
	attrs  []*hclsyntax.Attribute
	refs   []*reference
	refErr bool
}

// declareAll records every top-level block of every parsed file and checks
// the structure: block types, labels, duplicates and kinds.
func (l *loader) declareAll() {
	for _, name := range l.paths {
		file := l.files[name]
		if file == nil {
			continue
		}
		body, ok := file.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		broken := l.broken[name]
		for _, a := range sortedAttributes(body) {
			l.errorAt(a.NameRange, a.SrcRange.Ptr(), "Unsupported argument", fmt.Sprintf(
				"An argument named %q is not expected at the top level of a file. Put it in a block, such as locals { %s = ... }.",
				a.Name, a.Name))
		}
		for _, b := range body.Blocks {
			l.declareBlock(b, broken)
		}
	}
}

func (l *loader) declareBlock(b *hclsyntax.Block, broken bool) {
	switch b.Type {
	case "variable":
		l.declareVariable(b, broken)
	case "locals":
		l.declareLocals(b, broken)
	case "sweep":
		l.declareSweep(b, broken)
	case "preset":
		l.declarePreset(b, broken)
	case "dataset", "model", "erm", "target", "sampler":
		l.declareNode(b, broken)
	case "backend":
		l.declareBackend(b, broken)
	default:
		l.errorAt(b.TypeRange, b.DefRange().Ptr(), "Unsupported block type", fmt.Sprintf(
			"Blocks of type %q are not expected here. Valid block types are: %s.%s",
			b.Type, strings.Join(blockTypes, ", "), didYouMean(b.Type, blockTypes)))
	}
}

// sortedAttributes returns a body's attributes in source order.
func sortedAttributes(body *hclsyntax.Body) []*hclsyntax.Attribute {
	attrs := make([]*hclsyntax.Attribute, 0, len(body.Attributes))
	for _, a := range body.Attributes {
		attrs = append(attrs, a)
	}
	sort.Slice(attrs, func(i, j int) bool {
		return attrs[i].SrcRange.Start.Byte < attrs[j].SrcRange.Start.Byte
	})
	return attrs
}

// checkName checks that a block has exactly one label and that the label is
// a valid identifier, because references name blocks by it.
func (l *loader) checkName(b *hclsyntax.Block) bool {
	if len(b.Labels) == 0 {
		l.errorAt(b.TypeRange, b.DefRange().Ptr(), fmt.Sprintf("Missing name for %s block", b.Type),
			fmt.Sprintf("A %s block needs a name, as in %s \"NAME\" { ... }.", b.Type, b.Type))
		return false
	}
	l.rejectExtraLabels(b, 1)
	name := b.Labels[0]
	if !hclsyntax.ValidIdentifier(name) {
		l.errorAt(b.LabelRanges[0], b.DefRange().Ptr(), "Invalid block name", fmt.Sprintf(
			"The name %q is not valid. A name starts with a letter or underscore and contains only letters, digits, underscores and dashes.",
			name))
		return false
	}
	return true
}

func (l *loader) rejectExtraLabels(b *hclsyntax.Block, want int) {
	for i := want; i < len(b.LabelRanges); i++ {
		detail := fmt.Sprintf("A %s block takes no label, so remove %q.", b.Type, b.Labels[i])
		if want > 0 {
			detail = fmt.Sprintf("A %s block takes exactly one label, its name, so remove %q.", b.Type, b.Labels[i])
		}
		l.errorAt(b.LabelRanges[i], b.DefRange().Ptr(), fmt.Sprintf("Extra label on %s block", b.Type), detail)
	}
}

func (l *loader) rejectNestedBlocks(b *hclsyntax.Block, hint string) {
	for _, nested := range b.Body.Blocks {
		l.errorAt(nested.TypeRange, nested.DefRange().Ptr(), "Unsupported block type", fmt.Sprintf(
			"Blocks are not allowed inside a %s block.%s", b.Type, hint))
	}
}

// duplicate reports a second definition of a name, pointing at both.
func (l *loader) duplicate(summary, definition string, first, second hcl.Range) {
	d := l.errorAt(second, nil, summary, fmt.Sprintf(
		"%s is already defined at %s. Names must be unique, so rename or remove one of the two definitions.",
		definition, position(first)))
	addRelated(d, first)
}

func (l *loader) declareVariable(b *hclsyntax.Block, broken bool) {
	if !l.checkName(b) {
		return
	}
	name := b.Labels[0]
	if prev := l.variables[name]; prev != nil {
		l.duplicate("Duplicate variable declaration", fmt.Sprintf("A variable named %q", name),
			prev.block.DefRange(), b.DefRange())
		return
	}
	l.rejectNestedBlocks(b, "")
	v := &variable{name: name, block: b, broken: broken, typ: cty.DynamicPseudoType, typeOK: true}
	for _, a := range sortedAttributes(b.Body) {
		switch a.Name {
		case "type":
			ty, diags := typeexpr.TypeConstraint(a.Expr)
			l.extend(diags)
			v.typ, v.typeOK = ty, !diags.HasErrors()
		case "default":
			v.defaultAttr = a
		case "description":
			l.checkDescription(a)
		default:
			l.errorAt(a.NameRange, a.SrcRange.Ptr(), "Unsupported argument", fmt.Sprintf(
				"A variable block has no argument named %q. Valid arguments are: %s.%s",
				a.Name, strings.Join(variableAttributes, ", "), didYouMean(a.Name, variableAttributes)))
		}
	}
	l.variables[name] = v
	l.variableOrder = append(l.variableOrder, v)
}

func (l *loader) checkDescription(a *hclsyntax.Attribute) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		l.errorAt(a.Expr.Range(), a.SrcRange.Ptr(), "Invalid description",
			"The description of a variable must be a string literal, such as description = \"number of samples\".")
	}
}

func (l *loader) declareLocals(b *hclsyntax.Block, broken bool) {
	l.rejectExtraLabels(b, 0)
	l.rejectNestedBlocks(b, " Define each local value as an attribute, as in name = value.")
	for _, a := range sortedAttributes(b.Body) {
		if prev := l.locals[a.Name]; prev != nil {
			l.duplicate("Duplicate local value", fmt.Sprintf("A local value named %q", a.Name),
				prev.attr.NameRange, a.NameRange)
			continue
		}
		it := &item{typ: "local", name: a.Name, attr: a, broken: broken}
		l.locals[a.Name] = it
		l.items = append(l.items, it)
	}
}

func (l *loader) declareSweep(b *hclsyntax.Block, broken bool) {
	if l.sweepBlock != nil {
		d := l.errorAt(b.DefRange(), nil, "Duplicate sweep block", fmt.Sprintf(
			"A sweep block is already defined at %s, and a workflow has at most one. "+
				"Move these axes into that block and remove this one.", position(l.sweepBlock.DefRange())))
		addRelated(d, l.sweepBlock.DefRange())
		return
	}
	l.sweepBlock = b
	l.rejectExtraLabels(b, 0)
	l.rejectNestedBlocks(b, " Define each axis as an attribute, as in seed = [0, 1, 2].")
	for _, a := range sortedAttributes(b.Body) {
		ax := &axis{name: a.Name, index: len(l.axes), attr: a, broken: broken}
		l.axes = append(l.axes, ax)
		l.axisByName[a.Name] = ax
	}
}

func (l *loader) declarePreset(b *hclsyntax.Block, broken bool) {
	if !l.checkName(b) {
		return
	}
	name := b.Labels[0]
	if prev := l.presets[name]; prev != nil {
		l.duplicate("Duplicate preset", fmt.Sprintf("A preset named %q", name),
			prev.block.DefRange(), b.DefRange())
		return
	}
	l.rejectNestedBlocks(b, " Set each variable as an attribute, as in n_data = 500.")
	p := &preset{name: name, block: b, broken: broken, values: map[string]cty.Value{}}
	l.presets[name] = p
	l.presetOrder = append(l.presetOrder, p)
}

func (l *loader) declareNode(b *hclsyntax.Block, broken bool) {
	if !l.checkName(b) {
		return
	}
	name := b.Labels[0]
	if prev := l.blocks[b.Type][name]; prev != nil {
		l.duplicate(fmt.Sprintf("Duplicate %s block", b.Type), fmt.Sprintf("A %s block named %q", b.Type, name),
			prev.block.DefRange(), b.DefRange())
		return
	}
	l.rejectNestedBlocks(b, " To group settings, use an attribute with an object value, as in optimizer = { kind = \"adam\" }.")
	it := &item{typ: b.Type, name: name, block: b, broken: broken}
	var kindAttr *hclsyntax.Attribute
	for _, a := range sortedAttributes(b.Body) {
		if a.Name == "kind" {
			kindAttr = a
			continue
		}
		it.attrs = append(it.attrs, a)
	}
	if !broken {
		l.decodeKind(it, kindAttr)
	}
	l.blocks[b.Type][name] = it
	l.items = append(l.items, it)
}

// decodeKind reads the kind attribute, a string literal, and checks it
// against the registry.
func (l *loader) decodeKind(it *item, attr *hclsyntax.Attribute) {
	reg := l.opts.Registry
	var kinds []string
	if reg != nil {
		kinds = reg.Kinds(it.typ)
	}
	b := it.block
	if attr == nil {
		if len(kinds) == 1 {
			it.kind, it.kindOK = kinds[0], true
			return
		}
		detail := fmt.Sprintf("A %s block needs a kind attribute, as in kind = \"NAME\".", it.typ)
		if len(kinds) > 1 {
			detail = fmt.Sprintf("A %s block needs a kind attribute, one of: %s.", it.typ, quotedList(kinds))
		}
		l.errorAt(b.LabelRanges[0], b.DefRange().Ptr(), "Missing required argument", detail)
		return
	}
	v, diags := attr.Expr.Value(nil)
	if len(attr.Expr.Variables()) > 0 || diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		l.errorAt(attr.Expr.Range(), attr.SrcRange.Ptr(), "Invalid kind", fmt.Sprintf(
			"The kind of a %s block must be a string literal, such as kind = \"%s\". It cannot refer to variables, sweep axes or other blocks.",
			it.typ, exampleKind(kinds)))
		return
	}
	kind := v.AsString()
	switch {
	case reg == nil:
	case len(kinds) == 0:
		l.errorAt(attr.Expr.Range(), attr.SrcRange.Ptr(), "Unsupported kind", fmt.Sprintf(
			"No %s kinds are registered in this build of llcflow, so %q cannot be used.", it.typ, kind))
		return
	case !slices.Contains(kinds, kind):
		l.errorAt(attr.Expr.Range(), attr.SrcRange.Ptr(), "Unsupported kind", fmt.Sprintf(
			"There is no %s kind named %q. Valid kinds are: %s.%s",
			it.typ, kind, quotedList(kinds), didYouMean(kind, kinds)))
		return
	}
	it.kind, it.kindOK = kind, true
}

func exampleKind(kinds []string) string {
	if len(kinds) > 0 {
		return kinds[0]
	}
	return "NAME"
}

func quotedList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(quoted, ", ")
}

func (l *loader) declareBackend(b *hclsyntax.Block, broken bool) {
	if len(b.Labels) == 0 {
		l.errorAt(b.TypeRange, b.DefRange().Ptr(), "Missing name for backend block", fmt.Sprintf(
			"A backend block is labelled with the executor it configures, one of %s, as in backend \"slurm\" { ... }.",
			quotedList(backendLabels)))
		return
	}
	l.rejectExtraLabels(b, 1)
	label := b.Labels[0]
	if !slices.Contains(backendLabels, label) {
		l.errorAt(b.LabelRanges[0], b.DefRange().Ptr(), "Unsupported backend", fmt.Sprintf(
			"There is no backend named %q. Valid backends are: %s.%s",
			label, quotedList(backendLabels), didYouMean(label, backendLabels)))
		return
	}
	if prev := l.backends[label]; prev != nil {
		l.duplicate("Duplicate backend block", fmt.Sprintf("A backend block for %q", label),
			prev.block.DefRange(), b.DefRange())
		return
	}
	l.rejectNestedBlocks(b, " Use an attribute with an object value, as in name = { ... }.")
	be := &backend{label: label, block: b, broken: broken, attrs: sortedAttributes(b.Body)}
	l.backends[label] = be
	l.backendOrder = append(l.backendOrder, be)
}
