package fetch

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/store"
)

// fetchGit fetches a Git input from a repository on the local file
// system (a file:// URL or an absolute path) with the git command:
//
//   - with rev, that commit; with ref (a branch, tag or full ref name),
//     the commit it points to;
//   - with neither, HEAD, or, when the work tree has uncommitted changes
//     to tracked files, the tracked files as they are in the work tree
//     (the result then has dirtyRev instead of rev, as in Nix).
//
// exportIgnore = true leaves out the files marked export-ignore in
// .gitattributes (git archive's rule). Submodules, LFS and remote
// repositories are not supported yet. Commits are immutable, so a
// fetched commit is cached for good.
func (f *Fetcher) fetchGit(attrs map[string]any, narHash *nixhash.Hash, locked map[string]any) (string, map[string]any, error) {
	rawURL, _ := attrs["url"].(string)
	repo, err := localRepoPath(rawURL)
	if err != nil {
		return "", nil, err
	}
	if sub, _ := attrs["submodules"].(bool); sub {
		return "", nil, fmt.Errorf("cannot fetch Git repository '%s': submodules are not supported by this build of nixl yet", rawURL)
	}
	if lfs, _ := attrs["lfs"].(bool); lfs {
		return "", nil, fmt.Errorf("cannot fetch Git repository '%s': Git LFS is not supported by this build of nixl yet", rawURL)
	}
	if _, err := exec.LookPath("git"); err != nil {
		return "", nil, fmt.Errorf("cannot fetch Git repository '%s': the git command is not installed", rawURL)
	}
	g := &gitRepo{url: rawURL, dir: repo}
	if _, err := g.run(nil, "rev-parse", "--git-dir"); err != nil {
		return "", nil, fmt.Errorf("cannot fetch Git repository '%s': '%s' is not a Git repository", rawURL, repo)
	}
	name, _ := attrs["name"].(string)
	if name == "" {
		name = "source"
	}
	exportIgnore, _ := attrs["exportIgnore"].(bool)
	rev, _ := attrs["rev"].(string)
	ref, _ := attrs["ref"].(string)
	delete(locked, "ref")

	if rev == "" && ref == "" {
		dirty, err := g.dirty()
		if err != nil {
			return "", nil, err
		}
		if dirty {
			return f.fetchGitWorkTree(g, name, narHash, locked)
		}
		ref = "HEAD"
	}
	if rev == "" {
		if rev, err = g.resolveRef(ref); err != nil {
			return "", nil, err
		}
	} else if _, err := g.run(nil, "cat-file", "-e", rev+"^{commit}"); err != nil {
		where := ""
		if ref != "" {
			where = fmt.Sprintf(" in ref '%s'", ref)
		}
		return "", nil, fmt.Errorf("Cannot find Git revision '%s'%s of repository '%s'! Please make sure that the rev exists on the ref you've specified or add allRefs = true; to fetchGit.", rev, where, rawURL)
	}
	info, err := g.commitInfo(rev)
	if err != nil {
		return "", nil, err
	}
	locked["rev"] = rev
	locked["revCount"] = info.revCount
	locked["lastModified"] = info.lastModified

	key := fmt.Sprintf("%s?rev=%s&exportIgnore=%t", repo, rev, exportIgnore)
	if e := f.cache.get("git", key, name); e != nil && f.valid(e.StorePath) && (narHash == nil || e.NarHash == narHash.SRI()) {
		locked["narHash"] = e.NarHash
		return e.StorePath, locked, nil
	}
	tmp, err := os.MkdirTemp(f.opts.TempDir, "nixl-git-")
	if err != nil {
		return "", nil, err
	}
	defer removeTree(tmp)
	dir := filepath.Join(tmp, "tree")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", nil, err
	}
	if exportIgnore {
		err = g.exportArchive(rev, tmp, dir, f)
	} else {
		err = g.exportTree(rev, dir)
	}
	if err != nil {
		return "", nil, err
	}
	p, nar, err := f.addTree(name, dir, narHash, inputString("git", rawURL, nil))
	if err != nil {
		return "", nil, err
	}
	f.cache.put(&cacheEntry{Kind: "git", URL: key, Name: name, StorePath: p, Hash: nar.SRI(), NarHash: nar.SRI(), LastModified: int64(info.lastModified), Fetched: f.opts.Now().Unix()})
	locked["narHash"] = nar.SRI()
	return p, locked, nil
}

// fetchGitWorkTree copies the tracked files of a dirty work tree.
func (f *Fetcher) fetchGitWorkTree(g *gitRepo, name string, narHash *nixhash.Hash, locked map[string]any) (string, map[string]any, error) {
	if f.opts.Log != nil {
		fmt.Fprintf(f.opts.Log, "warning: Git tree '%s' is dirty\n", g.dir)
	}
	top, err := g.run(nil, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", nil, err
	}
	root := strings.TrimSpace(string(top))
	out, err := g.run(nil, "ls-files", "-z", "--full-name", "--", ":/")
	if err != nil {
		return "", nil, err
	}
	tmp, err := os.MkdirTemp(f.opts.TempDir, "nixl-git-")
	if err != nil {
		return "", nil, err
	}
	defer removeTree(tmp)
	dir := filepath.Join(tmp, "tree")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", nil, err
	}
	for _, rel := range strings.Split(string(out), "\x00") {
		if rel == "" {
			continue
		}
		src := filepath.Join(root, rel)
		fi, err := os.Lstat(src)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the work tree
		}
		if err != nil {
			return "", nil, err
		}
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", nil, err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(src)
			if err == nil {
				err = os.Symlink(target, dst)
			}
			if err != nil {
				return "", nil, err
			}
		case fi.IsDir(): // a submodule
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return "", nil, err
			}
		case fi.Mode().IsRegular():
			if err := copyFile(src, dst, fileMode(fi.Mode())); err != nil {
				return "", nil, err
			}
		}
	}
	p, nar, err := f.addTree(name, dir, narHash, inputString("git", g.url, nil))
	if err != nil {
		return "", nil, err
	}
	delete(locked, "rev")
	delete(locked, "revCount")
	locked["narHash"] = nar.SRI()
	if head, err := g.resolveRef("HEAD"); err == nil {
		locked["dirtyRev"] = head + "-dirty"
		locked["dirtyShortRev"] = head[:7] + "-dirty"
		if info, err := g.commitInfo(head); err == nil {
			locked["lastModified"] = info.lastModified
		}
	} else {
		locked["lastModified"] = uint64(0)
	}
	return p, locked, nil
}

// addTree checks a tree's NAR hash against narHash and adds it.
func (f *Fetcher) addTree(name, dir string, narHash *nixhash.Hash, input string) (string, nixhash.Hash, error) {
	nar, _, err := store.HashPath(nixhash.SHA256, dir, nil)
	if err != nil {
		return "", nixhash.Hash{}, err
	}
	if narHash != nil && nar != *narHash {
		return "", nixhash.Hash{}, &NarHashMismatchError{Input: input, Specified: *narHash, Got: nar}
	}
	p, err := f.opts.Store.AddPath(name, dir, true, nil)
	return p, nar, err
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(dst, mode)
	}
	return err
}

// localRepoPath turns a file:// URL or an absolute path into a path.
func localRepoPath(rawURL string) (string, error) {
	if strings.HasPrefix(rawURL, "/") {
		return filepath.Clean(rawURL), nil
	}
	u, err := url.Parse(rawURL)
	if err == nil && u.Scheme == "file" && (u.Host == "" || u.Host == "localhost") && u.Path != "" {
		return filepath.Clean(u.Path), nil
	}
	if err == nil && strings.HasPrefix(u.Scheme, "git+file") {
		return filepath.Clean(u.Path), nil
	}
	return "", fmt.Errorf("cannot fetch Git repository '%s': only repositories on the local file system (file:// URLs) can be fetched by this build of nixl yet", rawURL)
}

// gitRepo runs git commands in a repository.
type gitRepo struct {
	url string
	dir string
}

func (g *gitRepo) run(stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"-C", g.dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C", "GIT_TERMINAL_PROMPT=0")
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s in '%s': %s", args[0], g.dir, msg)
	}
	return out, nil
}

// dirty reports whether the work tree has uncommitted changes to tracked
// files (a bare repository or one without commits is never dirty).
func (g *gitRepo) dirty() (bool, error) {
	out, err := g.run(nil, "rev-parse", "--is-inside-work-tree")
	if err != nil || strings.TrimSpace(string(out)) != "true" {
		return false, nil
	}
	if _, err := g.run(nil, "rev-parse", "--verify", "--quiet", "HEAD"); err != nil {
		return true, nil // no commit yet: only the work tree exists
	}
	out, err = g.run(nil, "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return false, err
	}
	return len(bytes.TrimSpace(out)) > 0, nil
}

// resolveRef finds the commit a ref names: a full ref, a branch, a tag,
// or anything rev-parse accepts.
func (g *gitRepo) resolveRef(ref string) (string, error) {
	candidates := []string{ref}
	if !strings.HasPrefix(ref, "refs/") && ref != "HEAD" {
		candidates = []string{"refs/heads/" + ref, "refs/tags/" + ref, ref}
	}
	for _, c := range candidates {
		out, err := g.run(nil, "rev-parse", "--verify", "--quiet", c+"^{commit}")
		if err == nil {
			return strings.TrimSpace(string(out)), nil
		}
	}
	return "", fmt.Errorf("cannot fetch Git repository '%s': no commit found for ref '%s'", g.url, ref)
}

type commitInfo struct {
	revCount     uint64
	lastModified uint64
}

func (g *gitRepo) commitInfo(rev string) (commitInfo, error) {
	var ci commitInfo
	out, err := g.run(nil, "rev-list", "--count", rev)
	if err != nil {
		return ci, err
	}
	if ci.revCount, err = strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64); err != nil {
		return ci, err
	}
	out, err = g.run(nil, "log", "-1", "--format=%ct", rev)
	if err != nil {
		return ci, err
	}
	ci.lastModified, err = strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
	return ci, err
}

// exportArchive writes the tree of rev into dir through git archive,
// which leaves out export-ignore files.
func (g *gitRepo) exportArchive(rev, tmp, dir string, f *Fetcher) error {
	tarFile := filepath.Join(tmp, "archive.tar")
	out, err := os.Create(tarFile)
	if err != nil {
		return err
	}
	cmd := exec.Command("git", "-C", g.dir, "archive", "--format=tar", rev)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &stderr
	err = cmd.Run()
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("git archive in '%s': %s", g.dir, strings.TrimSpace(stderr.String()))
	}
	_, err = Unpack(f.opts.Ctx, tarFile, dir)
	return err
}

// exportTree writes the tree of rev into dir, every file included, with
// ls-tree and cat-file.
func (g *gitRepo) exportTree(rev, dir string) error {
	out, err := g.run(nil, "ls-tree", "-r", "-z", "--full-tree", rev)
	if err != nil {
		return err
	}
	type blob struct{ mode, oid, path string }
	var blobs []blob
	for _, line := range strings.Split(string(out), "\x00") {
		if line == "" {
			continue
		}
		meta, path, ok := strings.Cut(line, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 {
			return fmt.Errorf("git ls-tree: unexpected line %q", line)
		}
		dst := filepath.Join(dir, filepath.FromSlash(path))
		if !strings.HasPrefix(dst, dir+string(filepath.Separator)) {
			return fmt.Errorf("git ls-tree: unexpected path %q", path)
		}
		if f[1] == "commit" { // a submodule: an empty directory
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			continue
		}
		blobs = append(blobs, blob{f[0], f[2], dst})
	}
	if len(blobs) == 0 {
		return nil
	}
	var req bytes.Buffer
	for _, b := range blobs {
		req.WriteString(b.oid + "\n")
	}
	cmd := exec.Command("git", "-C", g.dir, "cat-file", "--batch")
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C")
	cmd.Stdin = &req
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Wait()
	r := bufio.NewReader(stdout)
	for _, b := range blobs {
		header, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("git cat-file: %v", err)
		}
		h := strings.Fields(header)
		if len(h) != 3 || h[1] != "blob" {
			return fmt.Errorf("git cat-file: unexpected header %q", header)
		}
		size, err := strconv.ParseInt(h[2], 10, 64)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(b.path), 0o755); err != nil {
			return err
		}
		data := io.LimitReader(r, size)
		switch b.mode {
		case "120000":
			target, err := io.ReadAll(data)
			if err != nil {
				return err
			}
			if err := os.Symlink(string(target), b.path); err != nil {
				return err
			}
		default:
			mode := fs.FileMode(0o644)
			if b.mode == "100755" {
				mode = 0o755
			}
			out, err := os.OpenFile(b.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, data)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Chmod(b.path, mode)
			}
			if err != nil {
				return err
			}
		}
		if _, err := r.ReadByte(); err != nil { // the newline after the contents
			return fmt.Errorf("git cat-file: %v", err)
		}
	}
	return nil
}
