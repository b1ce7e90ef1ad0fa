// Package profile manages profiles: sets of installed packages whose
// history is kept as numbered generations, as Nix's profiles do.
//
// # Layout
//
// A profile is a symbolic link, say P = <dir>/profile, next to its
// generations:
//
//	<dir>/profile           -> profile-3-link   (relative: the current generation)
//	<dir>/profile-2-link    -> <store>/<hash>-profile
//	<dir>/profile-3-link    -> <store>/<hash>-profile
//	<dir>/profile.lock      serialises changes (flock)
//
// Each generation link is a garbage collector root: below the store's
// profiles directory (local.Store.ProfilesDir, the default place) every
// link into the store is a root already; elsewhere the link is registered
// as an indirect root (local.Store.AddIndirectRoot). Switching generations
// replaces P atomically (a symbolic link at a temporary name renamed over
// P); creating one writes the new link the same way, then switches.
// Generation dates are the modification times of the links.
//
// # Generations
//
// A generation's store path is made by [Build]: the symbolic-link tree
// that builtin:buildenv (realise/builtinbuild) makes of the packages'
// output paths (bin/, share/ … merged; a lower priority number wins a
// collision, equal priorities conflict), plus manifest.json, the
// [Manifest] listing the installed elements (name, version, attribute
// path, source file, outputs, store paths, priority). The tree is added
// as a content-addressed path referring to the packages
// (local.Store.AddTreeWithReferences), as 'nix profile' does, so the same
// set of packages is always the same store path, and the manifest is part
// of it. A new generation whose store path is that of the last one is not
// created again.
package profile
