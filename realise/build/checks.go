package build

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/nixl-project/nixl/realise/derivation"
	"github.com/nixl-project/nixl/realise/store/local"
)

// outputChecks are the constraints on one output (Nix's Checks).
type outputChecks struct {
	ignoreSelfRefs       bool
	maxSize              *int64
	maxClosureSize       *int64
	allowedReferences    *[]string
	allowedRequisites    *[]string
	disallowedReferences *[]string
	disallowedRequisites *[]string
}

// checkOutputs enforces allowedReferences, allowedRequisites,
// disallowedReferences and disallowedRequisites (and, with structured
// attributes, outputChecks.<output> with maxSize and maxClosureSize) on
// the new outputs, whose infos are not registered yet.
func (b *Builder) checkOutputs(drv *derivation.Derivation, outNames []string, infos map[string]*local.PathInfo) error {
	checksFor := map[string]outputChecks{}
	if js, ok := drv.Env["__json"]; ok {
		var attrs map[string]json.RawMessage
		if err := json.Unmarshal([]byte(js), &attrs); err != nil {
			return err
		}
		raw, ok := attrs["outputChecks"]
		if !ok {
			return nil
		}
		var perOutput map[string]map[string]json.RawMessage
		if err := json.Unmarshal(raw, &perOutput); err != nil {
			return fmt.Errorf("invalid outputChecks in '%s': %w", drv.Name, err)
		}
		for name, c := range perOutput {
			var oc outputChecks
			for key, v := range c {
				switch key {
				case "ignoreSelfRefs":
					json.Unmarshal(v, &oc.ignoreSelfRefs)
				case "maxSize", "maxClosureSize":
					var n int64
					if err := json.Unmarshal(v, &n); err != nil {
						return fmt.Errorf("attribute '%s' of outputChecks.%s must be an integer", key, name)
					}
					if key == "maxSize" {
						oc.maxSize = &n
					} else {
						oc.maxClosureSize = &n
					}
				case "allowedReferences", "allowedRequisites", "disallowedReferences", "disallowedRequisites":
					var l []string
					if err := json.Unmarshal(v, &l); err != nil {
						return fmt.Errorf("attribute '%s' of outputChecks.%s must be a list of strings", key, name)
					}
					switch key {
					case "allowedReferences":
						oc.allowedReferences = &l
					case "allowedRequisites":
						oc.allowedRequisites = &l
					case "disallowedReferences":
						oc.disallowedReferences = &l
					default:
						oc.disallowedRequisites = &l
					}
				}
			}
			checksFor[name] = oc
		}
	} else {
		oc := outputChecks{ignoreSelfRefs: true}
		get := func(key string) *[]string {
			if v, ok := drv.Env[key]; ok {
				l := strings.Fields(v)
				return &l
			}
			return nil
		}
		oc.allowedReferences = get("allowedReferences")
		oc.allowedRequisites = get("allowedRequisites")
		oc.disallowedReferences = get("disallowedReferences")
		oc.disallowedRequisites = get("disallowedRequisites")
		for _, name := range outNames {
			checksFor[name] = oc
		}
	}
	outPaths := map[string]string{}
	byPath := map[string]*local.PathInfo{}
	for _, name := range outNames {
		outPaths[name] = infos[name].Path
		byPath[infos[name].Path] = infos[name]
	}
	// closure of a new output, through new outputs and valid paths.
	closure := func(p string) ([]string, error) {
		seen := map[string]bool{}
		todo := []string{p}
		var valid []string
		for len(todo) > 0 {
			x := todo[len(todo)-1]
			todo = todo[:len(todo)-1]
			if seen[x] {
				continue
			}
			seen[x] = true
			if info, ok := byPath[x]; ok {
				todo = append(todo, info.References...)
			} else {
				valid = append(valid, x)
			}
		}
		if len(valid) > 0 {
			c, err := b.store.Closure(valid)
			if err != nil {
				return nil, err
			}
			for _, x := range c {
				seen[x] = true
			}
		}
		return sortedKeys(seen), nil
	}
	for _, name := range outNames {
		oc, ok := checksFor[name]
		if !ok {
			continue
		}
		info := infos[name]
		if oc.maxSize != nil && info.NarSize > *oc.maxSize {
			return fmt.Errorf("path '%s' is too large at %d bytes; limit is %d bytes", info.Path, info.NarSize, *oc.maxSize)
		}
		if oc.maxClosureSize != nil {
			c, err := closure(info.Path)
			if err != nil {
				return err
			}
			var total int64
			for _, p := range c {
				if i, ok := byPath[p]; ok {
					total += i.NarSize
				} else if i, err := b.store.QueryPathInfo(p); err == nil {
					total += i.NarSize
				}
			}
			if total > *oc.maxClosureSize {
				return fmt.Errorf("closure of path '%s' is too large at %d bytes; limit is %d bytes", info.Path, total, *oc.maxClosureSize)
			}
		}
		check := func(spec *[]string, allowed, recursive bool) error {
			if spec == nil {
				return nil
			}
			set := map[string]bool{}
			for _, s := range *spec {
				switch {
				case outPaths[s] != "":
					set[outPaths[s]] = true
				case strings.HasPrefix(s, string(b.dir)+"/"):
					p, err := b.store.ToStorePath(s)
					if err != nil {
						return err
					}
					set[p] = true
				default:
					return fmt.Errorf("derivation contains an illegal reference specifier '%s'", s)
				}
			}
			used := info.References
			if recursive {
				c, err := closure(info.Path)
				if err != nil {
					return err
				}
				used = c
				if oc.ignoreSelfRefs {
					used = slices.DeleteFunc(slices.Clone(used), func(p string) bool { return p == info.Path })
				}
			}
			var bad []string
			for _, p := range used {
				if set[p] != allowed {
					bad = append(bad, p)
				}
			}
			if len(bad) > 0 {
				slices.Sort(bad)
				return fmt.Errorf("output '%s' is not allowed to refer to the following paths:\n  %s", info.Path, strings.Join(bad, "\n  "))
			}
			return nil
		}
		for _, c := range []struct {
			spec               *[]string
			allowed, recursive bool
		}{
			{oc.allowedReferences, true, false},
			{oc.allowedRequisites, true, true},
			{oc.disallowedReferences, false, false},
			{oc.disallowedRequisites, false, true},
		} {
			if err := check(c.spec, c.allowed, c.recursive); err != nil {
				return err
			}
		}
	}
	return nil
}
