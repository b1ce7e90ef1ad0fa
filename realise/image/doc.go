// Package image makes OCI container images from store paths, without
// Docker or any daemon: it lays store paths out in layers, writes OCI
// image layouts, exports OCI and Docker archives, pushes to and pulls
// from registries, and inspects images. The standard library's
// nixl.image.build, .pull and .index (stdlib/image/default.nixl) are
// derivations whose builtin builders are here (see Builders), and
// `nixl image export|push|inspect` is built on it.
//
// # Outputs
//
// Every builder's output is an OCI image layout directory: oci-layout,
// index.json listing one manifest (image.build, image.pull) or one
// index (image.index), and blobs/sha256/. index.json's descriptor
// carries the tag (org.opencontainers.image.ref.name), the full name
// (io.containerd.image.name) and the platform, so skopeo
// (oci:RESULT:TAG), umoci and podman read it as it is.
//
// # Layering
//
// As nixpkgs' dockerTools.buildLayeredImage: the store paths of the
// closure are ranked by popularity, the number of closure paths that
// reach them through references (so the C library, which everything
// uses, comes first); ties are broken by name, then by path. The first
// maxLayers − (base image layers) − 2 paths get a layer each, from the
// most popular (the bottom of the image) down, and the rest share one
// layer. A last, small customisation layer holds real directories for
// the contents' top-level directories with symbolic links to their
// entries (/bin/sh → /nix/store/…-busybox/bin/sh; directories that
// several contents share are merged as buildEnv does, the first
// contents path winning a collision) and the extra files. Store paths
// that a nixl-built base image already holds (its layer annotations
// say which) are not added again.
//
// # Determinism
//
// A layer is a function of its store paths' contents only: tar entries
// in byte order of name with their parent directories first, owner
// 0:0 without names, mtime the image's creation time (default
// 1970-01-01T00:00:01Z), modes normalised as in the store (0555
// directories and executables, 0444 files, 0777 links), no extended
// attributes, access or change times, hard links stored as files;
// gzip by klauspost/pgzip at level 1 in independent-of-CPU-count 1 MiB
// blocks with a zero header time. So a path that did not change keeps
// its layer digest across rebuilds, in any store that has it at the
// same place, and a push of a rebuilt image uploads only changed
// layers, the customisation layer and the configuration. JSON
// documents are written with sorted keys and no HTML escaping. A
// different compressor version or level would change every digest
// once.
//
// Layers are written in parallel (up to GOMAXPROCS at once, largest
// first), each compressed in parallel blocks, while two SHA-256
// digests are computed on the fly (of the tar, the diff ID, and of the
// blob), so a layer is read once. BenchmarkBuild512MB measures it.
//
// # Where the closure comes from
//
// builtin:oci-image needs every store path of the image with its
// references. image.build sets __structuredAttrs and
// exportReferencesGraph.closure to the contents and the store paths
// its configuration and extra files mention; the realiser (package
// realise/build) then writes .attrs.json with that closure: each
// path's references and NAR size, taken from the store database, for
// paths it has checked are inputs of the build. The builder reads only
// .attrs.json and the store directory: it needs no access to the
// database, and it works the same in-process or not. (Opening the
// store from the builder would also have worked for in-process
// builders, but would tie the builder to the local store and bypass
// the realiser's check that the paths are inputs.) Callers with a
// store at hand use ClosureInfo.
//
// # Pulling
//
// image.pull is a fixed-output derivation (builtin:oci-pull, the only
// builder here that uses the network, through go-containerregistry
// with the Docker configuration's credentials). A registry image is
// pinned by its manifest digest, but a fixed-output derivation needs
// the hash of its output, which cannot be derived from the digest
// without downloading: so, as with dockerTools.pullImage, the NAR
// hash of the output is given as well (a missing one is a fake hash,
// and the failed build tells the right one). The output is the
// manifest exactly as the registry serves it, with its configuration
// and layers, each checked against its digest: a function of digest
// and platform alone. A wrong digest makes the builder fail, so
// nothing is registered.
//
// # Root file systems
//
// image.rootfs (builtin:oci-rootfs, UnpackRootFS) unpacks an image into
// a store path that builds can run in (the sandboxRoot attribute of
// package realise/build; the standard library's image.runInImage): the
// layers are applied in order, each checked against its diff_id, with
// their whiteouts (".wh.NAME" removes NAME of the layers below,
// ".wh..wh..opq" what they put in its directory); a symbolic link on
// the way to an entry is resolved inside the tree, never out of it, and
// names with ".." are refused. Owners are not kept (everything belongs
// to the build user), nor setuid, setgid and sticky bits, extended
// attributes or times: the store canonicalises the tree like any
// output, so the same layers give the same tree, byte for byte. Device
// nodes and FIFOs, which the store cannot hold, are left out (counted in
// the log); the sandbox provides /dev. The second output, config, holds
// the runtime configuration (config.json, and env with its Env, which
// runInImage exports before the script).
//
// The derivation is input-addressed, yet keyed by the image's content:
// its only inputs are the image and the system. For image.pull's
// result, rootfs pulls the same digest again as a fixed-output
// derivation named "image-<16 hex digits of the digest>", whose output
// path depends on that name and its content hash only, not on the
// repository, and names the root file system "rootfs-<16 hex digits>":
// the same digest (and platform) always gives the same store path, and
// is unpacked once. (A fixed-output root file system would need its NAR
// hash in advance, and a floating content-addressed derivation is not
// supported by the realiser.) The price is that an image used both as
// a pull (fromImage…) and in runInImage is stored twice. For a path (an
// OCI layout or archive) the key is its content; for image.build's
// result its derivation, since the digest is only known once built.
package image
