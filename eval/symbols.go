package eval

import (
	"sync"
	"unsafe"
)

// Sym is an interned attribute or variable name. Attribute sets are sorted
// by Sym, so lookups compare integers, not strings.
type Sym uint32

var symtab = struct {
	sync.RWMutex
	ids   map[string]Sym
	names []string
	strs  []*ctxString // SymString's values, made on first use
}{ids: map[string]Sym{"": 0}, names: []string{""}, strs: []*ctxString{nil}}

// Intern returns the symbol for name.
func Intern(name string) Sym {
	symtab.RLock()
	s, ok := symtab.ids[name]
	symtab.RUnlock()
	if ok {
		return s
	}
	symtab.Lock()
	defer symtab.Unlock()
	if s, ok := symtab.ids[name]; ok {
		return s
	}
	s = Sym(len(symtab.names))
	symtab.names = append(symtab.names, name)
	symtab.strs = append(symtab.strs, nil)
	symtab.ids[name] = s
	return s
}

// SymString is the name of s as a string value that remembers s:
// attrNames gives these, and selecting by one (set.${name}) skips
// interning the name again.
func SymString(s Sym) Value {
	symtab.RLock()
	cs := symtab.strs[s]
	symtab.RUnlock()
	if cs == nil {
		symtab.Lock()
		if cs = symtab.strs[s]; cs == nil {
			cs = &ctxString{s: symtab.names[s], sym: s}
			symtab.strs[s] = cs
		}
		symtab.Unlock()
	}
	return Value{k: KindString, f: flagSym, n: uint64(len(cs.s)), p: unsafe.Pointer(cs)}
}

// SymOf is the symbol of a string made by SymString.
func SymOf(v Value) (Sym, bool) {
	if v.k == KindString && v.f&flagSym != 0 {
		return (*ctxString)(v.p).sym, true
	}
	return 0, false
}

// InternBytes is Intern for a name held in bytes; a name already
// interned costs no allocation.
func InternBytes(name []byte) Sym {
	symtab.RLock()
	s, ok := symtab.ids[string(name)]
	symtab.RUnlock()
	if ok {
		return s
	}
	return Intern(string(name))
}

// String returns the name of the symbol.
func (s Sym) String() string {
	symtab.RLock()
	n := symtab.names[s]
	symtab.RUnlock()
	return n
}

// Symbols the evaluator itself needs.
var (
	symOutPath          = Intern("outPath")
	symType             = Intern("type")
	symDrvPath          = Intern("drvPath")
	symFunctor          = Intern("__functor")
	symToString         = Intern("__toString")
	symName             = Intern("name")
	symValue            = Intern("value")
	symDerivation       = Intern("derivation")
	symOutputs          = Intern("outputs")
	symOutputName       = Intern("outputName")
	symIgnoreNulls      = Intern("__ignoreNulls")
	symFile             = Intern("file")
	symLine             = Intern("line")
	symColumn           = Intern("column")
	symBody             = Intern("body")
	symOverrides        = Intern("__overrides")
	symStructuredAttrs  = Intern("__structuredAttrs")
	symPrefix           = Intern("prefix")
	symPath             = Intern("path")
	symAllOutputs       = Intern("allOutputs")
	symMeta             = Intern("meta")
	symSystem           = Intern("system")
	symStartSet         = Intern("startSet")
	symOperator         = Intern("operator")
	symKey              = Intern("key")
	symWrong            = Intern("wrong")
	symRight            = Intern("right")
	symSuccess          = Intern("success")
	symOutputHash       = Intern("outputHash")
	symOutputHashAlgo   = Intern("outputHashAlgo")
	symOutputHashMode   = Intern("outputHashMode")
	symContentAddressed = Intern("__contentAddressed")
	symImpure           = Intern("__impure")
	symBuilder          = Intern("builder")
	symArgs             = Intern("args")
)
