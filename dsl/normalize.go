package dsl

import (
	"github.com/llcflow/llcflow/graph"
)

// normalizeKey identifies one call of Registry.Normalize: the block and the
// canonical encoding of its evaluated attributes, with each reference
// replaced by its block type.
type normalizeKey struct {
	item  *item
	attrs string
}

// normalized is the result of one call of Registry.Normalize that found no
// errors, split into the parameters without references, which every
// instance that reuses the result shares, and the roles of the references.
type normalized struct {
	plain map[string]any
	roles []string
}

// reuseAcrossInstances turns on the reuse of Normalize results and of
// constant attribute values across the instances of a block, and the
// evaluation of bare references without an HCL context. Tests turn it off
// to compare.
var reuseAcrossInstances = true

// refMarker stands for a reference in a normalizeKey. The NUL byte keeps it
// apart from any attribute value that an HCL file can write.
const refMarker = "\x00ref"

// normalize calls Registry.Normalize once per block and distinct attribute
// values. The instances of a swept block often differ only in the nodes
// they reference, and for them the result of the first call is reused with
// each instance's references as inputs, which saves most of the loading
// time of large sweeps. Normalize must then depend on a reference only
// through its type, which Registry's contract lets it see.
func (l *loader) normalize(reg Registry, it *item, attrs map[string]any) (nodeParams, []FieldError) {
	if files, ok := reg.(FileRegistry); ok && it.block != nil {
		// Kinds that read files resolve their paths against the directory of
		// the HCL file, so the cache of results is keyed by that file too
		// (it is part of the item).
		file := it.block.TypeRange.Filename
		reg = fileRegistry{FileRegistry: files, file: file}
	}
	call := func() (nodeParams, []FieldError) {
		params, errs := reg.Normalize(it.typ, it.kind, attrs)
		return splitRefs(params), errs
	}
	if !reuseAcrossInstances {
		return call()
	}
	key, ok := normalizeKey{item: it}, true
	if !sameAttrsAcrossInstances(it) {
		key, ok = normalizeKeyOf(it, attrs)
	}
	if !ok {
		return call()
	}
	if l.normalizeCache == nil {
		l.normalizeCache = map[normalizeKey]normalized{}
	}
	cached, hit := l.normalizeCache[key]
	if !hit {
		// Field errors may quote a reference's address, so only results
		// without errors are reused.
		params, errs := call()
		if len(errs) == 0 {
			roles := make([]string, len(params.inputs))
			for i, in := range params.inputs {
				roles[i] = in.Role
			}
			l.normalizeCache[key] = normalized{plain: params.plain, roles: roles}
		}
		return params, errs
	}
	inputs, ok := refInputs(cached.roles, attrs)
	if !ok {
		return call()
	}
	return nodeParams{plain: cached.plain, inputs: inputs}, nil
}

// sameAttrsAcrossInstances reports whether every instance of a block has
// the same attribute values apart from its references to dataset, erm and
// target blocks: its expressions refer to nothing but variables, such
// blocks and items without axes. The key of such a block needs no encoding
// of its values.
func sameAttrsAcrossInstances(it *item) bool {
	for _, r := range it.refs {
		switch {
		case r.root == "var", r.root == "dataset", r.root == "erm", r.root == "target":
		case r.target != nil && len(r.target.axes) == 0:
			// An item without axes has one value for every instance.
		default:
			return false
		}
	}
	return true
}

// normalizeKeyOf encodes the attributes with references replaced by their
// block type. It returns false for values that have no canonical encoding.
func normalizeKeyOf(it *item, attrs map[string]any) (normalizeKey, bool) {
	plain := make(map[string]any, len(attrs))
	for name, v := range attrs {
		if ref, isRef := v.(Ref); isRef {
			v = map[string]any{refMarker: ref.Type}
		}
		plain[name] = v
	}
	data, err := graph.Canonical(plain)
	if err != nil {
		return normalizeKey{}, false
	}
	return normalizeKey{item: it, attrs: string(data)}, true
}

// refInputs returns the references of attrs under the given roles as
// inputs, in the order of roles. It returns false when attrs has no
// reference under one of them.
func refInputs(roles []string, attrs map[string]any) ([]graph.InputRef, bool) {
	if len(roles) == 0 {
		return nil, true
	}
	inputs := make([]graph.InputRef, len(roles))
	for i, role := range roles {
		ref, ok := attrs[role].(Ref)
		if !ok {
			return nil, false
		}
		inputs[i] = graph.InputRef{Role: role, Address: ref.Address}
	}
	return inputs, true
}

// FileRegistry is a Registry whose kinds may read files that a block
// names. Load calls NormalizeFile in place of Normalize, with the path of
// the HCL file that declares the block, so that relative paths start from
// that file's directory rather than the working directory.
type FileRegistry interface {
	Registry
	NormalizeFile(file, blockType, kind string, attrs map[string]any) (map[string]any, []FieldError)
}

// fileRegistry binds a FileRegistry to the file of one block.
type fileRegistry struct {
	FileRegistry
	file string
}

func (r fileRegistry) Normalize(blockType, kind string, attrs map[string]any) (map[string]any, []FieldError) {
	return r.NormalizeFile(r.file, blockType, kind, attrs)
}
