package build

import (
	"slices"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// hashLen is the length of a store path's hash part.
const hashLen = store.StorePathHashLen

// refScanner finds, in the bytes written to it, the hash parts of
// candidate store paths, as Nix's RefScanSink does: the NAR of an output
// contains its file names, file contents and symlink targets, so scanning
// it finds every reference however it is stored. It keeps the last
// hashLen-1 bytes of each write to find hashes split between writes.
type refScanner struct {
	candidates map[string]string // hash part -> store path
	found      map[string]bool   // store paths
	buf        []byte
}

func newRefScanner(candidates map[string]string) *refScanner {
	return &refScanner{candidates: candidates, found: map[string]bool{}}
}

func (s *refScanner) Write(p []byte) (int, error) {
	if len(s.candidates) == 0 {
		return len(p), nil
	}
	s.buf = append(s.buf, p...)
	s.scan(s.buf)
	if keep := hashLen - 1; len(s.buf) > keep {
		copy(s.buf, s.buf[len(s.buf)-keep:])
		s.buf = s.buf[:keep]
	}
	return len(p), nil
}

// scan looks for hashes in b. A window is checked from its end: a byte
// that is not a base-32 digit lets the search skip past it.
func (s *refScanner) scan(b []byte) {
	i := 0
	for i+hashLen <= len(b) {
		j := hashLen - 1
		for j >= 0 && nixhash.IsBase32Digit(b[i+j]) {
			j--
		}
		if j >= 0 {
			i += j + 1
			continue
		}
		if p, ok := s.candidates[string(b[i:i+hashLen])]; ok {
			s.found[p] = true
		}
		i++
	}
}

func (s *refScanner) references() []string {
	out := make([]string, 0, len(s.found))
	for p := range s.found {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// scanOutput serialises the output at path once, computing its NAR hash
// and size and the candidates it refers to.
func scanOutput(path string, candidates map[string]string) (*local.PathInfo, error) {
	h := nixhash.SHA256.New()
	sc := newRefScanner(candidates)
	size, err := store.DumpPath(multiWriter{h, sc}, path, nil)
	if err != nil {
		return nil, err
	}
	return &local.PathInfo{
		NarHash:    nixhash.FromSum(nixhash.SHA256, h.Sum(nil)),
		NarSize:    size,
		References: sc.references(),
	}, nil
}

type multiWriter [2]interface{ Write([]byte) (int, error) }

func (m multiWriter) Write(p []byte) (int, error) {
	m[0].Write(p)
	return m[1].Write(p)
}
