package builtins

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
	"github.com/nixl-project/nixl/nixhash"
)

var fetchBuiltins = []builtin{
	{name: "fetchurl", params: []string{"url"}, fn: primFetchurl,
		doc: "Downloads url (a string, or { url; name ? baseNameOf url; sha256 ? … }) into the store and returns its store path. With sha256 the result is checked, and a copy already in the store is used without downloading."},
	{name: "fetchTarball", global: true, params: []string{"args"}, fn: primFetchTarball,
		doc: "Downloads and unpacks a tarball (a URL string, or { url; name ? \"source\"; sha256 ? … }) into the store and returns the path of its single top-level directory's contents."},
	{name: "fetchGit", global: true, params: []string{"args"}, fn: primFetchGit,
		doc: "Fetches a Git repository (a URL string, or { url; ref ? …; rev ? …; name ? \"source\"; submodules ? false; shallow ? false; allRefs ? false; … }) and returns { outPath; rev; shortRev; revCount; lastModified; lastModifiedDate; narHash; submodules; }."},
	{name: "fetchMercurial", global: true, params: []string{"args"}, fn: primFetchMercurial,
		doc: "Fetches a Mercurial repository (a URL string, or { url; rev ? …; name ? \"source\"; }); rev may be a changeset hash or a branch or tag name. Returns { outPath; rev; shortRev; revCount; branch; }."},
	{name: "fetchTree", global: true, params: []string{"input"}, fn: primFetchTree,
		doc: "Fetches a source tree described by input: a set { type = \"github\" | \"gitlab\" | \"sourcehut\" | \"git\" | \"hg\" | \"tarball\" | \"file\" | \"path\" | \"indirect\"; … } or a URL-like flake reference string. Returns { outPath; narHash; lastModified; … } as the input type provides."},
	{name: "parseFlakeRef", params: []string{"flake-ref"}, fn: primParseFlakeRef,
		doc: "Parses a flake reference such as \"github:NixOS/nixpkgs/23.05?dir=lib\" into its attributes: { type = \"github\"; owner = \"NixOS\"; repo = \"nixpkgs\"; ref = \"23.05\"; dir = \"lib\"; }."},
	{name: "flakeRefToString", params: []string{"attrs"}, fn: primFlakeRefToString,
		doc: "The inverse of parseFlakeRef: turns the attributes of a flake reference into its URL-like string."},
}

// fetchUnavailable is the error for an argument that is fine but cannot
// be fetched because this build has no fetcher.
func fetchUnavailable(what string) error {
	return eval.Errorf(eval.ErrEval, lang.NoPos, "cannot fetch '%s': fetching is not available in this build of nixl yet", what)
}

func primFetchurl(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	return fetchURLLike(e, args[0], "fetchurl", false, "")
}

func primFetchTarball(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	return fetchURLLike(e, args[0], "fetchTarball", true, "source")
}

// fetchURLLike is fetchurl and fetchTarball: arg is a URL or a set of url,
// sha256 and name.
func fetchURLLike(e *eval.Eval, arg eval.Value, who string, unpack bool, name string) (eval.Value, error) {
	if err := e.ForceAt(&arg, lang.NoPos); err != nil {
		return eval.Value{}, err
	}
	var url string
	haveURL := false
	var expected *nixhash.Hash
	isAttrs := arg.Kind() == eval.KindAttrs
	namePassed := false
	if isAttrs {
		attrs := arg.AttrsValue()
		for i := range attrs {
			a := &attrs[i]
			switch n := a.Name.String(); n {
			case "url":
				s, err := e.ForceStringNoCtx(a.Value, a.Pos(), "while evaluating the url we should fetch")
				if err != nil {
					return eval.Value{}, err
				}
				url, haveURL = s, true
			case "sha256":
				s, err := e.ForceStringNoCtx(a.Value, a.Pos(), "while evaluating the sha256 of the content we should fetch")
				if err != nil {
					return eval.Value{}, err
				}
				h, err := storeHashAllowEmpty(e, s, "sha256")
				if err != nil {
					return eval.Value{}, err
				}
				expected = &h
			case "name":
				s, err := e.ForceStringNoCtx(a.Value, a.Pos(), "while evaluating the name of the content we should fetch")
				if err != nil {
					return eval.Value{}, err
				}
				name, namePassed = s, true
			default:
				return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "unsupported argument '%s' to '%s'", n, who)
			}
		}
		if !haveURL {
			return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "'url' argument required")
		}
	} else {
		s, err := e.ForceStringNoCtx(arg, lang.NoPos, "while evaluating the url we should fetch")
		if err != nil {
			return eval.Value{}, err
		}
		url = s
	}
	if who == "fetchTarball" {
		url = resolveChannelURL(url)
	}
	if name == "" {
		name = urlBaseName(url)
	}
	if reason := storeNameProblem(name); reason != "" {
		var fix string
		switch {
		case namePassed:
			fix = fmt.Sprintf("Please change the value for the 'name' attribute passed to '%s', so that it can create a valid store path.", who)
		case isAttrs:
			fix = fmt.Sprintf("Please add a valid 'name' attribute to the argument for '%s', so that it can create a valid store path.", who)
		default:
			fix = fmt.Sprintf("Please pass an attribute set with 'url' and 'name' attributes to '%s',  so that it can create a valid store path.", who)
		}
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "invalid store path name when fetching URL '%s': %s. %s", url, reason, fix)
	}
	if e.PureEval && expected == nil {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "in pure evaluation mode, '%s' requires a 'sha256' argument", who)
	}
	// A pinned download already in the store needs no network.
	if expected != nil && expected.Algorithm() == nixhash.SHA256 {
		if ds, ok := derivationStore(e); ok {
			method := "flat"
			if unpack {
				method = "nar"
			}
			if p, err := ds.FixedOutputPath(name, method, *expected); err == nil && ds.IsValidPath(p) {
				return storePathString(p), nil
			}
		}
	}
	f, ok := storeFetcher(e)
	if !ok {
		return eval.Value{}, fetchUnavailable(url)
	}
	sri := ""
	if expected != nil {
		sri = expected.SRI()
	}
	p, err := f.FetchURL(url, name, unpack, sri)
	if err != nil {
		if ee, ok := err.(*eval.Error); ok {
			return eval.Value{}, ee
		}
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "%s", err.Error())
	}
	return storePathString(p), nil
}

// resolveChannelURL expands "channel:NAME" as Nix does for tarballs.
func resolveChannelURL(url string) string {
	if rest, ok := strings.CutPrefix(url, "channel:"); ok {
		return "https://channels.nixos.org/" + rest + "/nixexprs.tar.xz"
	}
	return url
}

// urlBaseName is the last component of a URL, ignoring one trailing slash.
func urlBaseName(p string) string {
	if p == "" {
		return ""
	}
	last := len(p) - 1
	if p[last] == '/' && last > 0 {
		last--
	}
	start := strings.LastIndexByte(p[:last+1], '/') + 1
	return p[start : last+1]
}

// fetchAttrs are the attributes of a fetcher input: string, bool or
// uint64 values.
type fetchAttrs map[string]any

func (a fetchAttrs) str(name string) (string, bool) {
	s, ok := a[name].(string)
	return s, ok
}

type fetchTreeParams struct {
	isFetchGit        bool
	allowNameArgument bool
	emptyRevFallback  bool
}

func primFetchTree(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	return fetchTree(e, args[0], fetchTreeParams{})
}

func primFetchGit(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	return fetchTree(e, args[0], fetchTreeParams{isFetchGit: true, allowNameArgument: true, emptyRevFallback: true})
}

func fetchTree(e *eval.Eval, arg eval.Value, params fetchTreeParams) (eval.Value, error) {
	who := "fetchTree"
	if params.isFetchGit {
		who = "fetchGit"
	}
	if err := e.ForceAt(&arg, lang.NoPos); err != nil {
		return eval.Value{}, err
	}
	var input fetchAttrs
	if arg.Kind() == eval.KindAttrs {
		attrs := arg.AttrsValue()
		input = fetchAttrs{}
		typ := ""
		if params.isFetchGit {
			typ = "git"
		}
		if a := attrs.Get(eval.Intern("type")); a != nil {
			if typ != "" {
				return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "unexpected argument 'type'")
			}
			s, err := e.ForceStringNoCtx(a.Value, a.Pos(), fmt.Sprintf("while evaluating the `type` argument passed to '%s'", who))
			if err != nil {
				return eval.Value{}, err
			}
			typ = s
		} else if typ == "" {
			return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "argument 'type' is missing in call to '%s'", who)
		}
		input["type"] = typ
		for i := range attrs {
			a := &attrs[i]
			n := a.Name.String()
			if n == "type" {
				continue
			}
			v := a.Value
			if err := e.ForceAt(&v, a.Pos()); err != nil {
				return eval.Value{}, err
			}
			switch v.Kind() {
			case eval.KindPath, eval.KindString:
				s, _, err := e.CoerceToString(v, a.Pos(), eval.CoerceOptions{}, "")
				if err != nil {
					return eval.Value{}, err
				}
				if params.isFetchGit && n == "url" {
					s = fixGitURL(s)
				}
				input[n] = s
			case eval.KindBool:
				input[n] = v.BoolValue()
			case eval.KindInt:
				if v.IntValue() < 0 {
					return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "negative value given for '%s' argument '%s': %d", who, n, v.IntValue())
				}
				input[n] = uint64(v.IntValue())
			default:
				if n == "publicKeys" {
					if err := requireFeature(e, "verified-fetches", ""); err != nil {
						return eval.Value{}, err
					}
					s, _, err := encodeJSON(e, v, lang.NoPos, true, builtinDepthBase)
					if err != nil {
						return eval.Value{}, err
					}
					input[n] = s
					continue
				}
				return eval.Value{}, eval.TypeErrorf(lang.NoPos, "fetchTree argument '%s' is %s while a string, Boolean or integer is expected", n, v.ShowType())
			}
		}
		if params.isFetchGit {
			if _, ok := input["exportIgnore"]; !ok {
				if sub, _ := input["submodules"].(bool); !sub {
					input["exportIgnore"] = true
				}
			}
		}
		if typ == "git" && !params.isFetchGit {
			if _, ok := input["shallow"]; !ok {
				input["shallow"] = true
			}
		}
		if !params.allowNameArgument {
			if _, ok := input["name"]; ok {
				return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "argument 'name' isn’t supported in call to '%s'", who)
			}
		}
		if err := checkInputAttrs(input); err != nil {
			return eval.Value{}, err
		}
	} else {
		url, _, err := e.CoerceToString(arg, lang.NoPos, eval.CoerceOptions{}, fmt.Sprintf("while evaluating the first argument passed to '%s'", who))
		if err != nil {
			return eval.Value{}, err
		}
		if params.isFetchGit {
			input = fetchAttrs{"type": "git", "url": fixGitURL(url), "exportIgnore": true}
		} else {
			if !e.Features["flakes"] {
				return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "passing a string argument to '%s' requires the 'flakes' experimental feature", who)
			}
			input, err = inputFromURL(url, true)
			if err != nil {
				return eval.Value{}, eval.AddTrace(err, lang.NoPos, "while fetching the input '%s'", url)
			}
		}
	}
	desc := inputToString(input)
	if e.PureEval && !inputIsLocked(input) {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "in pure evaluation mode, '%s' doesn't fetch unlocked input '%s'", who, desc)
	}
	f, ok := storeFetcher(e)
	if !ok {
		return eval.Value{}, fetchUnavailable(desc)
	}
	storePath, locked, err := f.FetchTree(input)
	if err != nil {
		if ee, ok := err.(*eval.Error); ok {
			return eval.Value{}, ee
		}
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "%s", err.Error())
	}
	return treeAttrs(storePath, fetchAttrs(locked), params.emptyRevFallback), nil
}

// treeAttrs is the result of fetchTree and fetchGit for a fetched input.
func treeAttrs(storePath string, input fetchAttrs, emptyRevFallback bool) eval.Value {
	b := eval.NewAttrsBuilder(12)
	b.AddString("outPath", storePathString(storePath))
	if s, ok := input.str("narHash"); ok {
		b.AddString("narHash", eval.String(s))
	}
	if typ, _ := input.str("type"); typ == "git" {
		sub, _ := input["submodules"].(bool)
		b.AddString("submodules", eval.Bool(sub))
	}
	if rev, ok := input.str("rev"); ok {
		b.AddString("rev", eval.String(rev))
		b.AddString("shortRev", eval.String(rev[:min(7, len(rev))]))
	} else if emptyRevFallback {
		zero := strings.Repeat("0", 40)
		b.AddString("rev", eval.String(zero))
		b.AddString("shortRev", eval.String(zero[:7]))
	}
	if n, ok := input["revCount"].(uint64); ok {
		b.AddString("revCount", eval.Int(int64(n)))
	} else if emptyRevFallback {
		b.AddString("revCount", eval.Int(0))
	}
	if s, ok := input.str("dirtyRev"); ok {
		b.AddString("dirtyRev", eval.String(s))
		short, _ := input.str("dirtyShortRev")
		b.AddString("dirtyShortRev", eval.String(short))
	}
	if n, ok := input["lastModified"].(uint64); ok {
		b.AddString("lastModified", eval.Int(int64(n)))
		b.AddString("lastModifiedDate", eval.String(time.Unix(int64(n), 0).UTC().Format("20060102150405")))
	}
	return b.Value()
}

// fixGitURL makes a local path a file:// URL, as fetchGit does.
func fixGitURL(url string) string {
	switch {
	case strings.HasPrefix(url, "/"):
		return "file://" + url
	case strings.Contains(url, "://"):
		return url
	case strings.Contains(url, ":"):
		// scp-like "host:path"
		host, path, _ := strings.Cut(url, ":")
		return "ssh://" + host + "/" + path
	}
	return "file://" + url
}

var revPattern = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)

func primFetchMercurial(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	arg := args[0]
	if err := e.ForceAt(&arg, lang.NoPos); err != nil {
		return eval.Value{}, err
	}
	var url, rev, ref string
	name := "source"
	if arg.Kind() == eval.KindAttrs {
		attrs := arg.AttrsValue()
		for i := range attrs {
			a := &attrs[i]
			switch n := a.Name.String(); n {
			case "url":
				s, _, err := e.CoerceToString(a.Value, a.Pos(), eval.CoerceOptions{}, "while evaluating the `url` attribute passed to builtins.fetchMercurial")
				if err != nil {
					return eval.Value{}, err
				}
				url = s
			case "rev":
				s, err := e.ForceStringNoCtx(a.Value, a.Pos(), "while evaluating the `rev` attribute passed to builtins.fetchMercurial")
				if err != nil {
					return eval.Value{}, err
				}
				// Either a changeset hash or a branch or tag name.
				if revPattern.MatchString(s) {
					h, err := storeHashParseAny(s, nixhash.SHA1)
					if err != nil {
						return eval.Value{}, err
					}
					rev = h.Base16()
				} else {
					ref = s
				}
			case "name":
				s, err := e.ForceStringNoCtx(a.Value, a.Pos(), "while evaluating the `name` attribute passed to builtins.fetchMercurial")
				if err != nil {
					return eval.Value{}, err
				}
				name = s
			default:
				return eval.Value{}, eval.Errorf(eval.ErrEval, a.Pos(), "unsupported argument '%s' to 'fetchMercurial'", n)
			}
		}
		if url == "" {
			return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "'url' argument required")
		}
	} else {
		s, _, err := e.CoerceToString(arg, lang.NoPos, eval.CoerceOptions{}, "while evaluating the first argument passed to builtins.fetchMercurial")
		if err != nil {
			return eval.Value{}, err
		}
		url = s
	}
	if e.PureEval && rev == "" {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "in pure evaluation mode, 'fetchMercurial' requires a Mercurial revision")
	}
	if !strings.Contains(url, "://") {
		url = "file://" + url
	}
	input := fetchAttrs{"type": "hg", "url": url, "name": name}
	if ref != "" {
		input["ref"] = ref
	}
	if rev != "" {
		input["rev"] = rev
	}
	f, ok := storeFetcher(e)
	if !ok {
		return eval.Value{}, fetchUnavailable(inputToString(input))
	}
	storePath, locked, err := f.FetchTree(input)
	if err != nil {
		if ee, ok := err.(*eval.Error); ok {
			return eval.Value{}, ee
		}
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "%s", err.Error())
	}
	b := eval.NewAttrsBuilder(5)
	b.AddString("outPath", storePathString(storePath))
	l := fetchAttrs(locked)
	if r, ok := l.str("ref"); ok {
		b.AddString("branch", eval.String(r))
	}
	if r, ok := l.str("rev"); ok {
		b.AddString("rev", eval.String(r))
		b.AddString("shortRev", eval.String(r[:min(12, len(r))]))
	}
	if n, ok := l["revCount"].(uint64); ok {
		b.AddString("revCount", eval.Int(int64(n)))
	}
	return b.Value(), nil
}

func primParseFlakeRef(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	s, err := e.ForceStringNoCtx(args[0], lang.NoPos, "while evaluating the argument passed to builtins.parseFlakeRef")
	if err != nil {
		return eval.Value{}, err
	}
	attrs, err := parseFlakeRef(s)
	if err != nil {
		return eval.Value{}, err
	}
	b := eval.NewAttrsBuilder(len(attrs))
	for _, k := range sortedAttrNames(attrs) {
		switch v := attrs[k].(type) {
		case string:
			b.AddString(k, eval.String(v))
		case bool:
			b.AddString(k, eval.Bool(v))
		case uint64:
			b.AddString(k, eval.Int(int64(v)))
		}
	}
	return b.Value(), nil
}

func primFlakeRefToString(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	set, err := e.ForceAttrs(args[0], lang.NoPos, "while evaluating the argument passed to builtins.flakeRefToString")
	if err != nil {
		return eval.Value{}, err
	}
	attrs := fetchAttrs{}
	for i := range set {
		a := &set[i]
		n := a.Name.String()
		v := a.Value
		if err := e.ForceAt(&v, lang.NoPos); err != nil {
			return eval.Value{}, err
		}
		switch v.Kind() {
		case eval.KindInt:
			if v.IntValue() < 0 {
				return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "negative value given for flake ref attr %s: %d", n, v.IntValue())
			}
			attrs[n] = uint64(v.IntValue())
		case eval.KindBool:
			attrs[n] = v.BoolValue()
		case eval.KindString:
			attrs[n] = v.Str()
		default:
			return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "flake reference attribute sets may only contain integers, Booleans, and strings, but attribute '%s' is %s", n, v.ShowType())
		}
	}
	dir, _ := attrs.str("dir")
	delete(attrs, "dir")
	if _, ok := attrs["type"]; !ok {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "'type' attribute to specify input scheme is required but not provided")
	}
	if err := checkInputAttrs(attrs); err != nil {
		return eval.Value{}, err
	}
	u := inputToURL(attrs)
	if dir != "" {
		u.query["dir"] = dir
	}
	return eval.String(u.String()), nil
}

func sortedAttrNames(a fetchAttrs) []string {
	out := make([]string, 0, len(a))
	for k := range a {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Inputs and their URL forms, as Nix's fetchers and flake references
// have them.

// inputAllowedAttrs lists the attributes each input type accepts
// (besides type).
var inputAllowedAttrs = map[string][]string{
	"github":    {"owner", "repo", "ref", "rev", "narHash", "lastModified", "host", "treeHash"},
	"gitlab":    {"owner", "repo", "ref", "rev", "narHash", "lastModified", "host", "treeHash"},
	"sourcehut": {"owner", "repo", "ref", "rev", "narHash", "lastModified", "host", "treeHash"},
	"git": {"url", "ref", "rev", "shallow", "submodules", "lfs", "exportIgnore", "lastModified", "revCount", "narHash",
		"allRefs", "name", "dirtyRev", "dirtyShortRev", "verifyCommit", "keytype", "publicKey", "publicKeys"},
	"hg":       {"url", "ref", "rev", "revCount", "narHash", "name"},
	"tarball":  {"url", "narHash", "name", "unpack", "rev", "revCount", "lastModified"},
	"file":     {"url", "narHash", "name", "unpack", "rev", "revCount", "lastModified"},
	"path":     {"path", "rev", "revCount", "lastModified", "narHash"},
	"indirect": {"id", "ref", "rev", "narHash"},
}

// checkInputAttrs checks the attributes of an input of a known type.
func checkInputAttrs(a fetchAttrs) error {
	typ, ok := a.str("type")
	if !ok {
		return eval.Errorf(eval.ErrEval, lang.NoPos, "'type' attribute to specify input scheme is required but not provided")
	}
	allowed, known := inputAllowedAttrs[typ]
	if !known {
		return nil
	}
	for _, n := range sortedAttrNames(a) {
		if n == "type" {
			continue
		}
		okName := false
		for _, x := range allowed {
			if x == n {
				okName = true
			}
		}
		if !okName {
			return eval.Errorf(eval.ErrEval, lang.NoPos, "input attribute '%s' not supported by scheme '%s'", n, typ)
		}
	}
	need := map[string][]string{"github": {"owner", "repo"}, "gitlab": {"owner", "repo"}, "sourcehut": {"owner", "repo"},
		"git": {"url"}, "hg": {"url"}, "tarball": {"url"}, "file": {"url"}, "path": {"path"}, "indirect": {"id"}}[typ]
	for _, n := range need {
		v, present := a[n]
		if !present {
			return eval.Errorf(eval.ErrEval, lang.NoPos, "attribute '%s' missing in input '%s'", n, inputAttrsString(a))
		}
		if _, isStr := v.(string); !isStr {
			return eval.Errorf(eval.ErrEval, lang.NoPos, "attribute '%s' in input '%s' is not a string", n, inputAttrsString(a))
		}
	}
	if rev, ok := a["rev"]; ok {
		s, isStr := rev.(string)
		if !isStr || !revPattern.MatchString(s) {
			return eval.Errorf(eval.ErrEval, lang.NoPos, "hash '%v' is not a Git revision", rev)
		}
	}
	return nil
}

// inputAttrsString shows input attributes as Nix does in messages.
func inputAttrsString(a fetchAttrs) string {
	var parts []string
	for _, k := range sortedAttrNames(a) {
		switch v := a[k].(type) {
		case string:
			parts = append(parts, strconv.Quote(k)+":"+strconv.Quote(v))
		default:
			parts = append(parts, fmt.Sprintf("%q:%v", k, v))
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func inputIsLocked(a fetchAttrs) bool {
	typ, _ := a.str("type")
	_, hasRev := a["rev"]
	_, hasNarHash := a["narHash"]
	switch typ {
	case "github", "gitlab", "sourcehut", "git", "hg":
		return hasRev
	case "tarball", "file", "path":
		return hasNarHash
	}
	return false
}

func inputToString(a fetchAttrs) string {
	if _, ok := inputAllowedAttrs[a["type"].(string)]; !ok {
		return inputAttrsString(a)
	}
	return inputToURL(a).String()
}

// parsedURL is a URL split as Nix splits it.
type parsedURL struct {
	scheme    string
	authority *string
	path      string
	query     map[string]string
	fragment  string
}

var urlPattern = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*):(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?$`)

func parseURL(s string) (parsedURL, bool) {
	m := urlPattern.FindStringSubmatch(s)
	if m == nil {
		return parsedURL{}, false
	}
	u := parsedURL{scheme: m[1], path: percentDecode(m[4]), query: map[string]string{}, fragment: percentDecode(m[8])}
	if m[2] != "" {
		auth := m[3]
		u.authority = &auth
	}
	if m[6] != "" {
		for _, kv := range strings.Split(m[6], "&") {
			if kv == "" {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			u.query[percentDecode(k)] = percentDecode(v)
		}
	}
	return u, true
}

func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if x, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(x))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func percentEncode(s, keep string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func (u parsedURL) String() string {
	s := u.scheme + ":"
	if u.authority != nil {
		s += "//" + *u.authority
	}
	s += percentEncode(u.path, ":@/")
	if len(u.query) > 0 {
		var parts []string
		keys := make([]string, 0, len(u.query))
		for k := range u.query {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			parts = append(parts, percentEncode(k, ":@/?")+"="+percentEncode(u.query[k], ":@/?"))
		}
		s += "?" + strings.Join(parts, "&")
	}
	if u.fragment != "" {
		s += "#" + percentEncode(u.fragment, ":@/?")
	}
	return s
}

var (
	refNamePattern = regexp.MustCompile(`^[a-zA-Z0-9@][a-zA-Z0-9_.\/@+-]*$`)
	flakeIDPattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]*$`)
	hostPattern    = regexp.MustCompile(`^[a-zA-Z0-9.-]*$`)
	tarballExts    = []string{".zip", ".tar", ".tgz", ".tar.gz", ".tar.xz", ".tar.bz2", ".tar.zst"}
)

func badURL(format string, args ...any) error {
	return eval.Errorf(eval.ErrEval, lang.NoPos, format, args...)
}

// inputFromURL turns a URL into the attributes of an input, trying each
// input type as Nix does. requireTree prefers tarballs over plain files.
func inputFromURL(s string, requireTree bool) (fetchAttrs, error) {
	u, ok := parseURL(s)
	if !ok {
		return nil, badURL("'%s' is not a valid URL", s)
	}
	application, transport, hasApp := strings.Cut(u.scheme, "+")
	if !hasApp {
		application, transport = "", u.scheme
	}
	switch {
	case u.scheme == "flake":
		return indirectFromURL(s, u)
	case u.scheme == "github" || u.scheme == "gitlab" || u.scheme == "sourcehut":
		return gitArchiveFromURL(s, u)
	case u.scheme == "path":
		if u.authority != nil && *u.authority != "" {
			return nil, badURL("path URL '%s' should not have an authority ('%s')", s, *u.authority)
		}
		a := fetchAttrs{"type": "path", "path": u.path}
		for _, k := range sortedQueryKeys(u.query) {
			v := u.query[k]
			switch k {
			case "rev", "narHash":
				a[k] = v
			case "revCount", "lastModified":
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return nil, badURL("path URL '%s' has invalid parameter '%s'", s, k)
				}
				a[k] = n
			default:
				return nil, badURL("path URL '%s' has unsupported parameter '%s'", s, k)
			}
		}
		return a, nil
	case u.scheme == "git" || application == "git":
		u2 := u
		u2.scheme = transport
		if u.scheme == "git" {
			u2.scheme = "git"
		}
		u2.query = map[string]string{}
		a := fetchAttrs{"type": "git"}
		for k, v := range u.query {
			switch k {
			case "rev", "ref", "keytype", "publicKey", "publicKeys":
				a[k] = v
			case "shallow", "submodules", "lfs", "exportIgnore", "allRefs", "verifyCommit":
				a[k] = v == "1"
			default:
				u2.query[k] = v
			}
		}
		a["url"] = u2.String()
		return a, checkInputAttrs(a)
	case application == "hg":
		u2 := u
		u2.scheme = transport
		u2.query = map[string]string{}
		a := fetchAttrs{"type": "hg"}
		for k, v := range u.query {
			if k == "rev" || k == "ref" {
				a[k] = v
			} else {
				u2.query[k] = v
			}
		}
		a["url"] = u2.String()
		return a, nil
	}
	if transport == "file" || transport == "http" || transport == "https" {
		isTarball := false
		for _, ext := range tarballExts {
			if strings.HasSuffix(u.path, ext) {
				isTarball = true
			}
		}
		typ := ""
		switch {
		case application == "tarball" || application == "file":
			typ = application
		case application != "":
		case requireTree || isTarball:
			typ = "tarball"
		default:
			typ = "file"
		}
		if typ != "" {
			if transport == "file" && !strings.HasPrefix(u.path, "/") {
				return nil, badURL("%s '%s' must use an absolute path. The 'file' scheme does not support relative paths.", typ, s)
			}
			a := fetchAttrs{"type": typ}
			u2 := u
			u2.scheme = transport
			u2.query = map[string]string{}
			for k, v := range u.query {
				switch k {
				case "narHash", "rev":
					a[k] = v
				case "revCount", "lastModified":
					if n, err := strconv.ParseUint(v, 10, 64); err == nil {
						a[k] = n
					}
				case "url", "name", "unpack":
				default:
					u2.query[k] = v
				}
			}
			a["url"] = u2.String()
			return a, nil
		}
	}
	return nil, badURL("input '%s' is unsupported", s)
}

func sortedQueryKeys(q map[string]string) []string {
	out := make([]string, 0, len(q))
	for k := range q {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func indirectFromURL(s string, u parsedURL) (fetchAttrs, error) {
	var parts []string
	for _, p := range strings.Split(u.path, "/") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	a := fetchAttrs{"type": "indirect"}
	switch len(parts) {
	case 1:
	case 2:
		if revPattern.MatchString(parts[1]) {
			a["rev"] = strings.ToLower(parts[1])
		} else if refNamePattern.MatchString(parts[1]) {
			a["ref"] = parts[1]
		} else {
			return nil, badURL("in flake URL '%s', '%s' is not a commit hash or branch/tag name", s, parts[1])
		}
	case 3:
		if !refNamePattern.MatchString(parts[1]) {
			return nil, badURL("in flake URL '%s', '%s' is not a branch/tag name", s, parts[1])
		}
		if !revPattern.MatchString(parts[2]) {
			return nil, badURL("in flake URL '%s', '%s' is not a commit hash", s, parts[2])
		}
		a["ref"] = parts[1]
		a["rev"] = strings.ToLower(parts[2])
	default:
		return nil, badURL("GitHub URL '%s' is invalid", s)
	}
	if len(parts) == 0 || !flakeIDPattern.MatchString(parts[0]) {
		id := ""
		if len(parts) > 0 {
			id = parts[0]
		}
		return nil, badURL("'%s' is not a valid flake ID", id)
	}
	a["id"] = parts[0]
	return a, nil
}

func gitArchiveFromURL(s string, u parsedURL) (fetchAttrs, error) {
	var parts []string
	for _, p := range strings.Split(u.path, "/") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	a := fetchAttrs{"type": u.scheme}
	var rev, ref string
	switch {
	case len(parts) < 2:
		return nil, badURL("URL '%s' is invalid", s)
	case len(parts) == 3:
		if revPattern.MatchString(parts[2]) {
			rev = strings.ToLower(parts[2])
		} else if refNamePattern.MatchString(parts[2]) {
			ref = parts[2]
		} else {
			return nil, badURL("in URL '%s', '%s' is not a commit hash or branch/tag name", s, parts[2])
		}
	case len(parts) > 3:
		rs := strings.Join(parts[2:], "/")
		if !refNamePattern.MatchString(rs) {
			return nil, badURL("in URL '%s', '%s' is not a branch/tag name", s, rs)
		}
		ref = rs
	}
	for _, k := range sortedQueryKeys(u.query) {
		v := u.query[k]
		switch k {
		case "rev":
			if rev != "" {
				return nil, badURL("URL '%s' contains multiple commit hashes", s)
			}
			h, err := storeHashParseAny(v, nixhash.SHA1)
			if err != nil {
				return nil, err
			}
			rev = h.Base16()
		case "ref":
			if !refNamePattern.MatchString(v) {
				return nil, badURL("URL '%s' contains an invalid branch/tag name", s)
			}
			if ref != "" {
				return nil, badURL("URL '%s' contains multiple branch/tag names", s)
			}
			ref = v
		case "host":
			if !hostPattern.MatchString(v) {
				return nil, badURL("URL '%s' contains an invalid instance host", s)
			}
			a["host"] = v
		case "narHash":
			a["narHash"] = v
		}
	}
	if ref != "" && rev != "" {
		return nil, badURL("URL '%s' contains both a commit hash and a branch/tag name %s %s", s, ref, rev)
	}
	a["owner"] = parts[0]
	a["repo"] = parts[1]
	if rev != "" {
		a["rev"] = rev
	}
	if ref != "" {
		a["ref"] = ref
	}
	return a, nil
}

// inputToURL is the URL form of an input of a known type.
func inputToURL(a fetchAttrs) parsedURL {
	typ, _ := a.str("type")
	str := func(k string) string { s, _ := a.str(k); return s }
	u := parsedURL{query: map[string]string{}}
	switch typ {
	case "github", "gitlab", "sourcehut":
		u.scheme = typ
		u.path = str("owner") + "/" + str("repo")
		if ref := str("ref"); ref != "" {
			u.path += "/" + ref
		}
		if rev := str("rev"); rev != "" {
			u.path += "/" + rev
		}
		if h := str("narHash"); h != "" {
			u.query["narHash"] = h
		}
		if h := str("host"); h != "" {
			u.query["host"] = h
		}
	case "indirect":
		u.scheme = "flake"
		u.path = str("id")
		if ref := str("ref"); ref != "" {
			u.path += "/" + ref
		}
		if rev := str("rev"); rev != "" {
			u.path += "/" + rev
		}
	case "path":
		u.scheme = "path"
		u.path = str("path")
		for _, k := range []string{"rev", "narHash"} {
			if v := str(k); v != "" {
				u.query[k] = v
			}
		}
		for _, k := range []string{"revCount", "lastModified"} {
			if n, ok := a[k].(uint64); ok {
				u.query[k] = strconv.FormatUint(n, 10)
			}
		}
	case "git", "hg":
		if p, ok := parseURL(str("url")); ok {
			u = p
		}
		if u.scheme != typ {
			u.scheme = typ + "+" + u.scheme
		}
		if rev := str("rev"); rev != "" {
			u.query["rev"] = rev
		}
		if ref := str("ref"); ref != "" {
			u.query["ref"] = ref
		}
		if typ == "git" {
			for _, k := range []string{"shallow", "lfs", "submodules", "exportIgnore", "verifyCommit"} {
				if b, _ := a[k].(bool); b {
					u.query[k] = "1"
				}
			}
			if k := str("publicKey"); k != "" {
				u.query["publicKey"] = k
				t := str("keytype")
				if t == "" {
					t = "ssh-ed25519"
				}
				u.query["keytype"] = t
			}
		}
	case "tarball", "file":
		if p, ok := parseURL(str("url")); ok {
			u = p
		}
		if h := str("narHash"); h != "" {
			u.query["narHash"] = h
		}
		if rev := str("rev"); rev != "" {
			u.query["rev"] = rev
		}
		for _, k := range []string{"revCount", "lastModified"} {
			if n, ok := a[k].(uint64); ok {
				u.query[k] = strconv.FormatUint(n, 10)
			}
		}
		// Spell out the type when the URL alone would suggest the other.
		isTarball := false
		for _, ext := range tarballExts {
			if strings.HasSuffix(u.path, ext) {
				isTarball = true
			}
		}
		if (typ == "tarball") != isTarball {
			u.scheme = typ + "+" + u.scheme
		}
	}
	if u.query == nil {
		u.query = map[string]string{}
	}
	return u
}

// parseFlakeRef parses a flake reference: a flake ID ("nixpkgs/23.05"), a
// URL ("github:NixOS/nixpkgs?dir=lib"), or an absolute path; "dir" in the
// query names the flake's subdirectory.
func parseFlakeRef(s string) (fetchAttrs, error) {
	ref, fragment, _ := strings.Cut(s, "#")
	if fragment != "" {
		return nil, badURL("unexpected fragment '%s' in flake reference '%s'", fragment, s)
	}
	body, query, _ := strings.Cut(ref, "?")
	id, rest, _ := strings.Cut(strings.TrimPrefix(body, "flake:"), "/")
	if flakeIDPattern.MatchString(id) && !strings.Contains(body, ":") || strings.HasPrefix(body, "flake:") {
		_ = rest
		a, err := inputFromURL("flake:"+strings.TrimPrefix(body, "flake:"), false)
		if err != nil {
			return nil, err
		}
		if query != "" {
			u, _ := parseURL("flake:x?" + query)
			if d := u.query["dir"]; d != "" {
				a["dir"] = d
			}
		}
		return a, nil
	}
	if u, ok := parseURL(s); ok {
		dir := u.query["dir"]
		delete(u.query, "dir")
		a, err := inputFromURL(u.String(), true)
		if err != nil {
			return nil, err
		}
		if dir != "" {
			a["dir"] = dir
		}
		return a, nil
	}
	if strings.HasPrefix(body, "/") {
		a := fetchAttrs{"type": "path", "path": eval.CanonPath(body)}
		if query != "" {
			u, _ := parseURL("path:x?" + query)
			if d := u.query["dir"]; d != "" {
				a["dir"] = d
			}
		}
		return a, nil
	}
	return nil, badURL("'%s' is not a valid flake reference", s)
}
