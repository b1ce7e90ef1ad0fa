package builtins

import (
	_ "embed"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
	"github.com/nixl-project/nixl/nixhash"
)

var derivationBuiltins = []builtin{
	{name: "derivationStrict", global: true, params: []string{"attrs"}, fn: primDerivationStrict,
		doc: "Builds the store derivation that attrs describes and returns { drvPath = …; OUTPUT = …; } with one path per output. " +
			"Every attribute becomes an environment variable of the builder (lists of strings joined by spaces, true as \"1\", false and null as \"\", paths copied to the store), except `args`, the builder's arguments. " +
			"Special attributes: name, builder, system (required), outputs, outputHash/outputHashAlgo/outputHashMode (fixed-output derivations), __structuredAttrs (pass the attributes as JSON in __json), __ignoreNulls (skip null attributes). " +
			"Unlike `derivation`, it evaluates everything at once."},
	{name: "derivation", global: true, constant: derivationConstant,
		doc: "Describes a build: derivation { name; system; builder; … } returns a set holding the given attributes, plus drvPath, outPath, type = \"derivation\", " +
			"one attribute per output (each a copy of the set for that output), `all` (the list of those) and drvAttrs (the argument). " +
			"The store derivation is computed (by derivationStrict) only when drvPath or an output path is used."},
	{name: "placeholder", global: true, params: []string{"output"}, fn: primPlaceholder,
		doc: "Returns the placeholder for the output named output: a string that stands for that output's path in a derivation's attributes and is replaced by the real path when building."},
	{name: "outputOf", params: []string{"derivation-reference", "output-name"}, fn: primOutputOf,
		doc: "Returns the path of output output-name of the derivation whose .drv path is derivation-reference, or a placeholder for it when the path is not known before building. Needs the dynamic-derivations experimental feature."},
}

//go:embed derivation.nix
var derivationNix string

// derivationConstant is the `derivation` function: the embedded
// derivation.nix, evaluated the first time it is needed by whichever
// evaluator needs it. The thunk applies a loader primop, which is how a
// constant gets hold of the evaluator.
func derivationConstant(*Config) eval.Value {
	loader := &eval.PrimOp{Name: "derivation", Arity: 1, Fn: func(e *eval.Eval, _ []eval.Value, _ lang.Pos) (eval.Value, error) {
		fn, err := e.EvalString("«nixl-internal»/derivation.nix", derivationNix, "/")
		if err != nil {
			return eval.Value{}, err
		}
		return e.CallFunction(fn, []eval.Value{eval.PrimOpValue(derivationSets)}, lang.NoPos)
	}}
	return eval.NewApp(eval.PrimOpValue(loader), eval.Null)
}

var (
	symDrvName            = eval.Intern("name")
	symDrvStructuredAttrs = eval.Intern("__structuredAttrs")
	symDrvIgnoreNulls     = eval.Intern("__ignoreNulls")
)

func primDerivationStrict(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	attrs, err := e.ForceAttrs(args[0], lang.NoPos, "while evaluating the argument passed to builtins.derivationStrict")
	if err != nil {
		return eval.Value{}, err
	}
	nameAttr := attrs.Get(symDrvName)
	if nameAttr == nil {
		err := eval.Errorf(eval.ErrEval, lang.NoPos, "attribute 'name' missing")
		return eval.Value{}, eval.AddTrace(err, lang.NoPos, "in the attrset passed as argument to builtins.derivationStrict")
	}
	name, err := e.ForceStringNoCtx(nameAttr.Value, lang.NoPos, "while evaluating the `name` attribute passed to builtins.derivationStrict")
	if err != nil {
		return eval.Value{}, eval.AddTrace(err, nameAttr.Pos(), "while evaluating the derivation attribute 'name'")
	}
	v, err := derivationStrict(e, name, attrs)
	if err != nil {
		where := e.FileSet().Position(nameAttr.Pos()).String()
		frame := fmt.Sprintf("while evaluating derivation '%s'\n  whose name attribute is located at %s", name, where)
		if ee, ok := err.(*eval.Error); ok {
			// Shown even when the trace is cut short, so that one can tell
			// which derivation failed.
			ee.Trace = append(ee.Trace, lang.TraceFrame{Msg: frame, Always: true})
		}
		return eval.Value{}, err
	}
	return v, nil
}

// drvBuild collects what derivationStrict learns from the attributes.
type drvBuild struct {
	e        *eval.Eval
	name     string
	drv      *Derivation
	ctx      eval.ContextBuilder
	outputs  []string // sorted, unique
	json     *drvJSONObject
	hash     *string // outputHash
	hashAlgo string  // outputHashAlgo, "" if absent or not an algorithm
	mode     string  // "", "flat", "nar", "text", "git"
	ca       bool    // __contentAddressed
	impure   bool    // __impure
}

func derivationStrict(e *eval.Eval, name string, attrs eval.Attrs) (eval.Value, error) {
	if reason := storeNameProblem(name); reason != "" {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "invalid derivation name: %s. Please pass a different '%s'.", reason, "name")
	}
	b := &drvBuild{e: e, name: name, outputs: onlyOut, drv: newDerivation(name, len(attrs)+1)}
	defer releaseDerivation(b.drv)

	if a := attrs.Get(symDrvStructuredAttrs); a != nil {
		on, err := e.ForceBool(a.Value, lang.NoPos, "while evaluating the `__structuredAttrs` attribute passed to builtins.derivationStrict")
		if err != nil {
			return eval.Value{}, err
		}
		if on {
			b.json = &drvJSONObject{}
		}
	}
	ignoreNulls := false
	if a := attrs.Get(symDrvIgnoreNulls); a != nil {
		on, err := e.ForceBool(a.Value, lang.NoPos, "while evaluating the `__ignoreNulls` attribute passed to builtins.derivationStrict")
		if err != nil {
			return eval.Value{}, err
		}
		ignoreNulls = on
	}

	for _, a := range attrs.Lexicographic() {
		key := a.Name.String()
		if key == "__ignoreNulls" {
			continue
		}
		if err := b.attribute(key, a, ignoreNulls); err != nil {
			return eval.Value{}, eval.AddTrace(err, a.Pos(), "while evaluating attribute '%s' of derivation '%s'", key, name)
		}
	}
	if b.json != nil {
		text, err := b.json.dump()
		if err != nil {
			return eval.Value{}, err
		}
		b.drv.setEnv("__json", text)
	}
	return b.finish()
}

// derivationPool holds Derivations for reuse: one is garbage as soon as
// the store has computed its paths (the store keeps nothing of it), and
// an evaluation can make many thousands.
var derivationPool = sync.Pool{New: func() any { return new(Derivation) }}

// newDerivation returns an empty Derivation named name, with room for
// nenv environment variables.
func newDerivation(name string, nenv int) *Derivation {
	d := derivationPool.Get().(*Derivation)
	*d = Derivation{Name: name, Outputs: d.Outputs[:0], InputDrvs: d.InputDrvs[:0], InputSrcs: d.InputSrcs[:0],
		Args: d.Args[:0], Env: slices.Grow(d.Env[:0], nenv)}
	return d
}

// releaseDerivation gives d back for reuse, dropping what it refers to.
func releaseDerivation(d *Derivation) {
	clear(d.Outputs[:cap(d.Outputs)])
	clear(d.InputDrvs[:cap(d.InputDrvs)])
	clear(d.InputSrcs[:cap(d.InputSrcs)])
	clear(d.Args[:cap(d.Args)])
	clear(d.Env[:cap(d.Env)])
	derivationPool.Put(d)
}

// attribute handles one attribute of the argument set.
func (b *drvBuild) attribute(key string, a *eval.Attr, ignoreNulls bool) error {
	e := b.e
	v := a.Value
	if ignoreNulls {
		if err := e.ForceAt(&v, lang.NoPos); err != nil {
			return err
		}
		if v.Kind() == eval.KindNull {
			return nil
		}
	}
	// An empty context adds no trace frame: the attribute's own frame says
	// enough.
	switch key {
	case "__contentAddressed":
		on, err := e.ForceBool(v, lang.NoPos, "")
		if err != nil {
			return err
		}
		if on {
			b.ca = true
			return requireFeature(e, "ca-derivations", "")
		}
		return nil
	case "__impure":
		on, err := e.ForceBool(v, lang.NoPos, "")
		if err != nil {
			return err
		}
		if on {
			b.impure = true
			return requireFeature(e, "impure-derivations", "")
		}
		return nil
	case "args":
		elems, err := e.ForceList(v, lang.NoPos, "")
		if err != nil {
			return err
		}
		b.drv.Args = slices.Grow(b.drv.Args, len(elems))
		for i := range elems {
			s, c, err := e.CoerceToString(elems[i], lang.NoPos, eval.CoerceOptions{More: true, CopyToStore: true}, "while evaluating an element of the argument list")
			if err != nil {
				return err
			}
			b.ctx.Add(c)
			b.drv.Args = append(b.drv.Args, s)
		}
		return nil
	}
	if b.json != nil {
		return b.structuredAttribute(key, a, v)
	}
	s, c, err := e.CoerceToString(v, lang.NoPos, eval.CoerceOptions{More: true, CopyToStore: true}, "")
	if err != nil {
		return err
	}
	b.ctx.Add(c)
	if key == "__json" {
		e.Warn(fmt.Sprintf("In derivation '%s': setting structured attributes via '__json' is deprecated, and may be disallowed in future versions of Nix. Set '__structuredAttrs = true' instead.", b.name))
		text, err := drvCanonicalJSON(e, s)
		if err != nil {
			return err
		}
		b.drv.setEnv("__json", text)
		return nil
	}
	b.drv.setEnv(key, s)
	switch key {
	case "builder":
		b.drv.Builder = s
	case "system":
		b.drv.Platform = s
	case "outputHash":
		h := s // a copy, so that s itself stays off the heap
		b.hash = &h
	case "outputHashAlgo":
		return b.setHashAlgo(s)
	case "outputHashMode":
		return b.setHashMode(s)
	case "outputs":
		return b.setOutputs(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }))
	}
	return nil
}

// structuredAttribute handles an attribute with __structuredAttrs: it
// goes into the JSON, and the special ones must have their proper type.
func (b *drvBuild) structuredAttribute(key string, a *eval.Attr, v eval.Value) error {
	e := b.e
	if key == "__structuredAttrs" {
		return nil
	}
	text, err := drvJSON(e, v, &b.ctx)
	if err != nil {
		return err
	}
	b.json.add(key, text)
	switch key {
	case "builder":
		s, c, err := e.ForceString(v, lang.NoPos, "")
		if err != nil {
			return err
		}
		b.ctx.Add(c)
		b.drv.Builder = s
	case "system":
		s, err := e.ForceStringNoCtx(v, lang.NoPos, "")
		if err != nil {
			return err
		}
		b.drv.Platform = s
	case "outputHash":
		s, err := e.ForceStringNoCtx(v, lang.NoPos, "")
		if err != nil {
			return err
		}
		b.hash = &s
	case "outputHashAlgo":
		s, err := e.ForceStringNoCtx(v, lang.NoPos, "")
		if err != nil {
			return err
		}
		return b.setHashAlgo(s)
	case "outputHashMode":
		s, err := e.ForceStringNoCtx(v, lang.NoPos, "")
		if err != nil {
			return err
		}
		return b.setHashMode(s)
	case "outputs":
		elems, err := e.ForceList(v, lang.NoPos, "")
		if err != nil {
			return err
		}
		var names []string
		for i := range elems {
			s, err := e.ForceStringNoCtx(elems[i], lang.NoPos, "")
			if err != nil {
				return err
			}
			names = append(names, s)
		}
		return b.setOutputs(names)
	case "allowedReferences", "allowedRequisites", "disallowedReferences", "disallowedRequisites", "maxSize", "maxClosureSize":
		d := lang.Diagnostic{
			Msg:     fmt.Sprintf("'structuredAttrs' disables the effect of the derivation attribute '%s'; use 'outputChecks.<output>.%s' instead", key, key),
			Pos:     a.Pos(),
			Warning: true,
			Trace:   []lang.TraceFrame{{Msg: fmt.Sprintf("while evaluating derivation '%s'", b.name)}},
		}
		fmt.Fprint(e.Stderr, d.Render(e.FileSet(), true))
	}
	return nil
}

func (b *drvBuild) setHashAlgo(s string) error {
	if s == "blake3" {
		if err := requireFeature(b.e, "blake3-hashes", ""); err != nil {
			return err
		}
		return eval.Errorf(eval.ErrEval, lang.NoPos, "BLAKE3 hashes are not supported by nixl yet")
	}
	// A name that is not an algorithm counts as absent: the hash must then
	// name its own.
	if _, err := nixhash.ParseAlgorithm(s); err == nil {
		b.hashAlgo = s
	} else {
		b.hashAlgo = ""
	}
	return nil
}

func (b *drvBuild) setHashMode(s string) error {
	switch s {
	case "recursive", "nar":
		b.mode = "nar"
	case "flat":
		b.mode = "flat"
	case "text":
		b.mode = "text"
		return requireFeature(b.e, "dynamic-derivations", fmt.Sprintf("text-hashed derivation '%s', outputHashMode = \"text\"", b.name))
	case "git":
		b.mode = "git"
		return requireFeature(b.e, "git-hashing", "")
	default:
		return eval.Errorf(eval.ErrEval, lang.NoPos, "invalid value '%s' for 'outputHashMode' attribute", s)
	}
	return nil
}

func (b *drvBuild) setOutputs(names []string) error {
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			return eval.Errorf(eval.ErrEval, lang.NoPos, "duplicate derivation output '%s'", n)
		}
		// The result set already has a drvPath attribute.
		if n == "drvPath" {
			return eval.Errorf(eval.ErrEval, lang.NoPos, "invalid derivation output name 'drvPath'")
		}
		seen[n] = true
	}
	if len(seen) == 0 {
		return eval.Errorf(eval.ErrEval, lang.NoPos, "derivation cannot have an empty set of outputs")
	}
	b.outputs = make([]string, 0, len(seen)) // not onlyOut's array
	for n := range seen {
		b.outputs = append(b.outputs, n)
	}
	sort.Strings(b.outputs)
	return nil
}

// finish turns the string context into inputs, decides how the outputs
// are addressed, has the store compute the paths, and makes the result.
func (b *drvBuild) finish() (eval.Value, error) {
	e, drv := b.e, b.drv
	ds, ok := derivationStore(e)
	if !ok {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "cannot instantiate derivation '%s': the store does not support derivations", b.name)
	}
	// Input derivations as (path, output) pairs, sorted below.
	context := b.ctx.Context()
	inputs := slices.Grow(drv.InputDrvs[:0], len(context))
	for _, c := range context {
		switch {
		case strings.HasPrefix(c, "="):
			// The builder may use everything the derivation refers to,
			// outputs included, so the whole closure becomes input.
			closure, err := storeClosure(ds, c[1:])
			if err != nil {
				return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "%s", err.Error())
			}
			for _, p := range closure {
				drv.InputSrcs = append(drv.InputSrcs, p)
				if strings.HasSuffix(p, ".drv") {
					outputs, err := ds.DerivationOutputs(p)
					if err != nil {
						return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "%s", err.Error())
					}
					outs := make([]string, len(outputs))
					for i, o := range outputs {
						outs[i] = o.Name
					}
					inputs = append(inputs, DerivationInput{Path: p, Outputs: outs})
				}
			}
		case strings.HasPrefix(c, "!"):
			output, drvPath := splitBuiltContext(c)
			outputs := onlyOut
			if output != "out" {
				outputs = []string{output}
			}
			inputs = append(inputs, DerivationInput{Path: drvPath, Outputs: outputs})
		default:
			drv.InputSrcs = append(drv.InputSrcs, c)
		}
	}
	drv.InputDrvs = mergeInputs(inputs)
	if !slices.IsSorted(drv.InputSrcs) {
		slices.Sort(drv.InputSrcs)
	}
	drv.InputSrcs = slices.Compact(drv.InputSrcs)

	if drv.Builder == "" {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "required attribute 'builder' missing")
	}
	if drv.Platform == "" {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "required attribute 'system' missing")
	}
	if strings.HasSuffix(b.name, ".drv") && !(b.mode == "text" && len(b.outputs) == 1 && b.outputs[0] == "out") {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "derivation names are allowed to end in '%s' only if they produce a single derivation file", ".drv")
	}

	drv.Outputs = slices.Grow(drv.Outputs[:0], len(b.outputs))
	for _, o := range b.outputs {
		drv.Outputs = append(drv.Outputs, DerivationOutput{Name: o})
	}
	switch {
	case b.hash != nil:
		// Fixed-output derivations are content-addressed already, so
		// __contentAddressed does not matter here.
		if len(b.outputs) != 1 || b.outputs[0] != "out" {
			return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "multiple outputs are not supported in fixed-output derivations")
		}
		h, err := storeHashAllowEmpty(e, *b.hash, b.hashAlgo)
		if err != nil {
			return eval.Value{}, err
		}
		mode := b.mode
		if mode == "" {
			mode = "flat"
		}
		if mode == "git" {
			return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "git-hashed derivations are not supported by nixl yet")
		}
		drv.Outputs[0] = DerivationOutput{Name: "out", HashAlgo: methodPrefix(mode) + h.Algorithm().String(), Hash: h.Base16()}
	case b.ca || b.impure:
		if b.ca && b.impure {
			return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "derivation cannot be both content-addressed and impure")
		}
		if b.impure {
			return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "impure derivations are not supported by nixl yet")
		}
		algo := b.hashAlgo
		if algo == "" {
			algo = "sha256"
		}
		mode := b.mode
		if mode == "" {
			mode = "nar"
		}
		for i, o := range b.outputs {
			drv.setEnv(o, hashPlaceholder(o))
			drv.Outputs[i].HashAlgo = methodPrefix(mode) + algo
		}
	default:
		// The outputs are named after a hash of the derivation with the
		// output paths (and their variables) left empty.
		for _, o := range b.outputs {
			drv.setEnv(o, "")
		}
	}

	drv.sortEnv()
	drvPath, err := ds.AddDerivation(drv)
	if err != nil {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "%s", err.Error())
	}
	res := eval.NewAttrsBuilder(1 + len(drv.Outputs))
	res.Add(symDrvPath, eval.StringWithContext(drvPath, eval.NewContext(eval.ContextDrvDeep(drvPath))))
	for _, o := range drv.Outputs {
		res.Add(internOutput(o.Name), outputString(drvPath, o.Name, o.Path))
	}
	return res.Value(), nil
}

var symOut = eval.Intern("out")

// internOutput is eval.Intern for an output name, without the symbol
// table for the usual one.
func internOutput(name string) eval.Sym {
	if name == "out" {
		return symOut
	}
	return eval.Intern(name)
}

// outputString is the value of an output of a derivation: its path, or a
// placeholder when the path is only known after building; either way with
// the output in its context.
func outputString(drvPath, output, path string) eval.Value {
	if path == "" {
		path = downstreamPlaceholder(drvPath, output)
	}
	return eval.StringWithContext(path, eval.NewContext(eval.ContextBuilt(drvPath, output)))
}

// hashPlaceholder is builtins.placeholder: "/" and the nixbase32 SHA-256
// of "nix-output:<output>".
func hashPlaceholder(output string) string {
	return "/" + nixhash.SumString(nixhash.SHA256, "nix-output:"+output).NixBase32()
}

// downstreamPlaceholder stands for an output of a derivation whose output
// paths are not known before it is built.
func downstreamPlaceholder(drvPath, output string) string {
	base := drvPath[strings.LastIndexByte(drvPath, '/')+1:]
	hashPart, drvName, _ := strings.Cut(base, "-")
	drvName = strings.TrimSuffix(drvName, ".drv")
	pathName := drvName
	if output != "out" {
		pathName += "-" + output
	}
	return "/" + nixhash.SumString(nixhash.SHA256, "nix-upstream-output:"+hashPart+":"+pathName).NixBase32()
}

func methodPrefix(mode string) string {
	switch mode {
	case "nar":
		return "r:"
	case "text":
		return "text:"
	case "git":
		return "git:"
	}
	return ""
}

// splitBuiltContext splits "!out!/nix/store/…drv".
func splitBuiltContext(c string) (output, drvPath string) {
	rest := c[1:]
	i := strings.IndexByte(rest, '!')
	if i < 0 {
		return "", rest
	}
	return rest[:i], rest[i+1:]
}

// onlyOut is the outputs used from most inputs; it is never changed
// (mergeInputs copies before it adds).
var onlyOut = []string{"out"}

// mergeInputs sorts the inputs by path and merges the entries of each
// path, their outputs sorted and unique.
func mergeInputs(inputs []DerivationInput) []DerivationInput {
	if len(inputs) <= 1 {
		return inputs
	}
	slices.SortStableFunc(inputs, func(a, b DerivationInput) int { return strings.Compare(a.Path, b.Path) })
	out := inputs[:1]
	for _, in := range inputs[1:] {
		last := &out[len(out)-1]
		if in.Path != last.Path {
			out = append(out, in)
			continue
		}
		outputs := append(slices.Clip(last.Outputs), in.Outputs...)
		slices.Sort(outputs)
		last.Outputs = slices.Compact(outputs)
	}
	return out
}

// storeClosure is the set of paths root refers to, directly or not,
// root included, in sorted order.
func storeClosure(ds DerivationStore, root string) ([]string, error) {
	seen := map[string]bool{}
	todo := []string{root}
	for len(todo) > 0 {
		p := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[p] {
			continue
		}
		seen[p] = true
		refs, err := ds.QueryReferences(p)
		if err != nil {
			return nil, err
		}
		todo = append(todo, refs...)
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// requireFeature fails unless the experimental feature is on, in Nix's
// words; reason, if any, says what needed it.
func requireFeature(e *eval.Eval, feature, reason string) error {
	if e.Features[feature] {
		return nil
	}
	if reason != "" {
		reason = " (" + reason + ")"
	}
	return eval.Errorf(eval.ErrEval, lang.NoPos, "experimental Nix feature '%s' is disabled%s; add '--extra-experimental-features %s' to enable it", feature, reason, feature)
}

// storeNameProblem checks a store path name as Nix does and says what is
// wrong with it, in Nix's words, or returns "".
func storeNameProblem(name string) string {
	switch {
	case name == "":
		return "name must not be empty"
	case len(name) > 211:
		return fmt.Sprintf("name '%s' must be no longer than %d characters", name, 211)
	case name == "." || name == "..":
		return fmt.Sprintf("name '%s' is not valid", name)
	case strings.HasPrefix(name, ".-"):
		return fmt.Sprintf("name '%s' is not valid: first dash-separated component must not be '%s'", name, ".")
	case strings.HasPrefix(name, "..-"):
		return fmt.Sprintf("name '%s' is not valid: first dash-separated component must not be '%s'", name, "..")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("+-._?=", c) >= 0 {
			continue
		}
		return fmt.Sprintf("name '%s' contains illegal character '%c'", name, c)
	}
	return ""
}

func primPlaceholder(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	output, err := e.ForceStringNoCtx(args[0], lang.NoPos, argCtx(0, "placeholder"))
	if err != nil {
		return eval.Value{}, err
	}
	return eval.String(hashPlaceholder(output)), nil
}

func primOutputOf(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	if err := requireFeature(e, "dynamic-derivations", ""); err != nil {
		return eval.Value{}, err
	}
	s, ctx, err := e.CoerceToString(args[0], lang.NoPos, eval.CoerceOptions{}, "while evaluating the first argument to builtins.outputOf")
	if err != nil {
		return eval.Value{}, err
	}
	output, err := e.ForceStringNoCtx(args[1], lang.NoPos, "while evaluating the second argument to builtins.outputOf")
	if err != nil {
		return eval.Value{}, err
	}
	if len(ctx) != 1 {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "string '%s' has %d entries in its context. It should only have exactly one entry", s, len(ctx))
	}
	c := ctx[0]
	switch {
	case strings.HasPrefix(c, "="):
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "string '%s' has a context which refers to a complete source and binary closure. This is not supported at this time", s)
	case strings.HasPrefix(c, "!"):
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "outputOf of the output of a derivation is not supported by nixl yet")
	}
	if s != c {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "path string '%s' has context with the different path '%s'", s, c)
	}
	ds, ok := derivationStore(e)
	if !ok {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "cannot read derivation '%s': the store does not support derivations", c)
	}
	outputs, err := ds.DerivationOutputs(c)
	if err != nil {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "%s", err.Error())
	}
	d := Derivation{Outputs: outputs}
	o := d.Output(output)
	if o == nil {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "derivation '%s' does not have output '%s'", c, output)
	}
	return outputString(c, output, o.Path), nil
}
