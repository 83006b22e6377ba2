package dsl

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// envPrefix starts the environment variables that set input variables, as
// in LLCFLOW_VAR_n_data=500.
const envPrefix = "LLCFLOW_VAR_"

// resolveVariables gives every declared variable its value. Sources are
// applied from lowest to highest precedence, so the last one wins: the
// default, the preset, the environment, each --var-file in order, and each
// --var in order.
func (l *loader) resolveVariables() {
	defaults := map[string]cty.Value{}
	for _, v := range l.variableOrder {
		if v.defaultAttr == nil {
			continue
		}
		if v.broken {
			defaults[v.name] = cty.DynamicVal
			continue
		}
		val, ok := l.constantValue(v.defaultAttr.Expr, "The default of a variable")
		if ok {
			val, ok = l.convertVariable(v, val, v.defaultAttr.Expr.Range(), v.defaultAttr.SrcRange.Ptr(), "default")
		}
		defaults[v.name] = validOrUnknown(val, ok)
	}

	for _, p := range l.presetOrder {
		l.checkPreset(p)
	}
	l.applyPreset()
	l.applyEnviron()
	for _, path := range l.opts.VarFiles {
		l.applyVarFile(path)
	}
	for _, arg := range l.opts.Vars {
		l.applyVarArg(arg)
	}

	values := map[string]cty.Value{}
	for _, v := range l.variableOrder {
		switch d, hasDefault := defaults[v.name]; {
		case v.value != cty.NilVal:
		case hasDefault:
			v.value = d
		case v.broken:
			v.value = cty.DynamicVal
		default:
			l.errorAt(v.block.DefRange(), nil, "No value for required variable", fmt.Sprintf(
				"The variable %q has no default and no value was given. Set it with --var %s=VALUE, a --var-file, the environment variable %s%s or a preset, or give it a default.",
				v.name, v.name, envPrefix, v.name))
			v.value = cty.DynamicVal
		}
		values[v.name] = v.value
	}
	l.varObject = cty.EmptyObjectVal
	if len(values) > 0 {
		l.varObject = cty.ObjectVal(values)
	}
}

func validOrUnknown(v cty.Value, ok bool) cty.Value {
	if !ok {
		return cty.DynamicVal
	}
	return v
}

// constantValue evaluates an expression that may call functions but may not
// refer to anything.
func (l *loader) constantValue(expr hcl.Expression, what string) (cty.Value, bool) {
	if refs := expr.Variables(); len(refs) > 0 {
		l.errorAt(refs[0].SourceRange(), expr.Range().Ptr(), "Variables not allowed", fmt.Sprintf(
			"%s must be a constant value, so it cannot refer to %s.", what, traversalString(refs[0])))
		return cty.DynamicVal, false
	}
	val, diags := expr.Value(&hcl.EvalContext{Functions: l.funcs})
	l.extend(diags)
	if diags.HasErrors() || !val.IsWhollyKnown() {
		return cty.DynamicVal, false
	}
	return val, true
}

// convertVariable converts a value to the variable's declared type and
// reports a mismatch at subject.
func (l *loader) convertVariable(v *variable, val cty.Value, subject hcl.Range, context *hcl.Range, source string) (cty.Value, bool) {
	if !v.typeOK {
		return cty.DynamicVal, false
	}
	converted, err := convert.Convert(val, v.typ)
	if err != nil {
		l.errorAt(subject, context, "Invalid value for variable", fmt.Sprintf(
			"The %s of variable %q is not a valid %s: %s.",
			source, v.name, typeexpr.TypeString(v.typ), conversionError(err)))
		return cty.DynamicVal, false
	}
	return converted, true
}

// conversionError formats a cty conversion error with the path of the
// offending element, as in `element [1]: a number is required`.
func conversionError(err error) string {
	var pe cty.PathError
	if !errors.As(err, &pe) || len(pe.Path) == 0 {
		return err.Error()
	}
	var path strings.Builder
	for _, step := range pe.Path {
		switch s := step.(type) {
		case cty.GetAttrStep:
			path.WriteString("." + s.Name)
		case cty.IndexStep:
			path.WriteString(indexString(s.Key))
		}
	}
	return fmt.Sprintf("element %s: %s", strings.TrimPrefix(path.String(), "."), pe.Error())
}

// checkPreset checks every preset, selected or not, so that a typo in an
// unused preset is still reported.
func (l *loader) checkPreset(p *preset) {
	for _, a := range sortedAttributes(p.block.Body) {
		v := l.variables[a.Name]
		if v == nil {
			l.errorAt(a.NameRange, a.SrcRange.Ptr(), "Undeclared variable", fmt.Sprintf(
				"The preset %q sets %q, but no variable block declares it. Declared variables: %s.%s",
				p.name, a.Name, nameList(l.variableNames()), didYouMean(a.Name, l.variableNames())))
			continue
		}
		if p.broken {
			p.values[a.Name] = cty.DynamicVal
			continue
		}
		val, ok := l.constantValue(a.Expr, "A value in a preset")
		if ok {
			val, ok = l.convertVariable(v, val, a.Expr.Range(), a.SrcRange.Ptr(), fmt.Sprintf("value in preset %q", p.name))
		}
		p.values[a.Name] = validOrUnknown(val, ok)
	}
}

func (l *loader) applyPreset() {
	name := l.opts.Preset
	if name == "" {
		return
	}
	p := l.presets[name]
	if p == nil {
		names := make([]string, 0, len(l.presetOrder))
		for _, p := range l.presetOrder {
			names = append(names, p.name)
		}
		l.errorNoRange("Unknown preset", fmt.Sprintf("The --preset %q is not defined by any preset block. Defined presets: %s.%s",
			name, nameList(names), didYouMean(name, names)))
		return
	}
	for _, varName := range sortedKeys(p.values) {
		l.variables[varName].value = p.values[varName]
	}
}

// applyEnviron applies LLCFLOW_VAR_name entries. Entries for undeclared
// variables are ignored, because the environment is shared by every
// configuration a user runs.
func (l *loader) applyEnviron() {
	for _, entry := range l.opts.Environ {
		rest, found := strings.CutPrefix(entry, envPrefix)
		if !found {
			continue
		}
		name, raw, ok := strings.Cut(rest, "=")
		v := l.variables[name]
		if !ok || v == nil {
			continue
		}
		val, err := l.parseRawValue(v, raw)
		if err != nil {
			l.errorNoRange("Invalid value for variable", fmt.Sprintf(
				"The environment variable %s%s=%q is not a valid value for variable %q of type %s: %v.",
				envPrefix, name, raw, name, typeexpr.TypeString(v.typ), err))
		}
		v.value = val
	}
}

func (l *loader) applyVarFile(path string) {
	src, err := os.ReadFile(path)
	if err != nil {
		l.errorNoRange("Cannot read variables file", fmt.Sprintf(
			"Reading the --var-file %s failed: %v. Check that the path exists and is readable.", path, err))
		return
	}
	file, diags := parseConfig(src, path)
	l.extend(diags)
	if file == nil {
		return
	}
	l.files[path] = file
	body, ok := file.Body.(*hclsyntax.Body)
	if diags.HasErrors() || !ok {
		return
	}
	for _, b := range body.Blocks {
		l.errorAt(b.TypeRange, b.DefRange().Ptr(), "Unexpected block in variables file", fmt.Sprintf(
			"A variables file contains only name = value lines, so a %s block is not allowed here.", b.Type))
	}
	for _, a := range sortedAttributes(body) {
		v := l.variables[a.Name]
		if v == nil {
			l.errorAt(a.NameRange, a.SrcRange.Ptr(), "Undeclared variable", fmt.Sprintf(
				"This file sets %q, but no variable block declares it. Declared variables: %s.%s",
				a.Name, nameList(l.variableNames()), didYouMean(a.Name, l.variableNames())))
			continue
		}
		val, ok := l.constantValue(a.Expr, "A value in a variables file")
		if ok {
			val, ok = l.convertVariable(v, val, a.Expr.Range(), a.SrcRange.Ptr(), "value")
		}
		v.value = validOrUnknown(val, ok)
	}
}

func (l *loader) applyVarArg(arg string) {
	name, raw, ok := strings.Cut(arg, "=")
	if !ok || name == "" {
		l.errorNoRange("Invalid --var argument", fmt.Sprintf(
			"The argument --var %q is not of the form name=value. Write it as, for example, --var n_data=500.", arg))
		return
	}
	v := l.variables[name]
	if v == nil {
		l.errorNoRange("Undeclared variable", fmt.Sprintf(
			"The argument --var %q sets a variable named %q, but no variable block declares it. Declared variables: %s.%s",
			arg, name, nameList(l.variableNames()), didYouMean(name, l.variableNames())))
		return
	}
	val, err := l.parseRawValue(v, raw)
	if err != nil {
		l.errorNoRange("Invalid value for variable", fmt.Sprintf(
			"The argument --var %q is not a valid value for variable %q of type %s: %v.",
			arg, name, typeexpr.TypeString(v.typ), err))
	}
	v.value = val
}

// parseRawValue reads a value from the command line or the environment. For
// a primitive type, or no type, the raw string is converted to that type.
// For a collection or structural type it is parsed as an HCL expression.
// On error the value is unknown.
func (l *loader) parseRawValue(v *variable, raw string) (cty.Value, error) {
	if !v.typeOK {
		return cty.DynamicVal, nil // the type's own error is already reported
	}
	if v.typ.IsPrimitiveType() || v.typ == cty.DynamicPseudoType {
		val, err := convert.Convert(cty.StringVal(raw), v.typ)
		if err != nil {
			return cty.DynamicVal, errors.New(conversionError(err))
		}
		return val, nil
	}
	expr, diags := parseExpression([]byte(raw), "<value for var."+v.name+">")
	if diags.HasErrors() {
		return cty.DynamicVal, fmt.Errorf("it is not a valid HCL expression (%s)", diagnosticText(diags))
	}
	if refs := expr.Variables(); len(refs) > 0 {
		return cty.DynamicVal, fmt.Errorf("it must be a constant and cannot refer to %s", traversalString(refs[0]))
	}
	val, diags := expr.Value(&hcl.EvalContext{Functions: l.funcs})
	if diags.HasErrors() {
		return cty.DynamicVal, fmt.Errorf("it cannot be evaluated (%s)", diagnosticText(diags))
	}
	converted, err := convert.Convert(val, v.typ)
	if err != nil {
		return cty.DynamicVal, errors.New(conversionError(err))
	}
	return converted, nil
}

// parseExpression parses a standalone HCL expression, turning a panic of
// the parser into an error as parseConfig does.
func parseExpression(src []byte, filename string) (expr hclsyntax.Expression, diags hcl.Diagnostics) {
	defer func() {
		if r := recover(); r != nil {
			expr = nil
			diags = hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Invalid expression",
				Detail:   fmt.Sprintf("The HCL parser stopped: %v.", r),
			}}
		}
	}()
	return hclsyntax.ParseExpression(src, filename, hcl.InitialPos)
}

// diagnosticText joins the summaries and details of the errors in diags.
func diagnosticText(diags hcl.Diagnostics) string {
	var parts []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		text := d.Summary
		if d.Detail != "" {
			text += ": " + strings.TrimSuffix(d.Detail, ".")
		}
		parts = append(parts, text)
	}
	return strings.Join(parts, "; ")
}

func (l *loader) variableNames() []string {
	names := make([]string, len(l.variableOrder))
	for i, v := range l.variableOrder {
		names[i] = v.name
	}
	return names
}

// nameList joins names for a message, or returns "none".
func nameList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// traversalString writes a reference as it appears in source, such as
// var.n_data or local.widths[0]. Index keys that are not literals print as
// [...].
func traversalString(t hcl.Traversal) string {
	var b strings.Builder
	for _, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			b.WriteString(indexString(s.Key))
		case hcl.TraverseSplat:
			b.WriteString(".*")
		}
	}
	return b.String()
}

func indexString(key cty.Value) string {
	if key.IsKnown() && !key.IsNull() {
		switch key.Type() {
		case cty.Number:
			return "[" + key.AsBigFloat().Text('f', -1) + "]"
		case cty.String:
			return "[" + quoteHCL(key.AsString()) + "]"
		}
	}
	return "[...]"
}
