package cache

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/signing"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// ServerOptions configure NewServer.
type ServerOptions struct {
	// SecretKey, if set, signs every narinfo served (in addition to the
	// signatures the store has recorded for the path).
	SecretKey *signing.SecretKey
	// Compression of the NARs served: "none" (the default), "xz" or
	// "zstd", compressed on the fly.
	Compression string
	// Priority is announced in nix-cache-info (0 means 30, below Nix's
	// default of 50, as a local cache usually should be asked first).
	Priority int
	// ErrorLog, if set, receives errors met while streaming a NAR, which
	// cannot be reported to the client once the response has started.
	ErrorLog func(format string, args ...any)
}

// Server serves a local store as a binary cache over HTTP, in Nix's
// format, so that nix copy --from, nix-store -r with substituters, and
// nixl's Substituter can fetch from it:
//
//	GET /nix-cache-info                    StoreDir, WantMassQuery, Priority
//	GET /<HASH>.narinfo                    made on the fly, signed if a key is set
//	GET /nar/<HASH>-<NARHASH>.nar[.xz|.zst]  the path's NAR, streamed
//
// HEAD is answered too. The NAR URL names the store path and its NAR
// hash, so a path that was deleted and added again with other contents is
// never served under an old narinfo.
type Server struct {
	st   *local.Store
	opts ServerOptions
}

// NewServer returns a server of st.
func NewServer(st *local.Store, opts ServerOptions) (*Server, error) {
	if opts.Compression == "" {
		opts.Compression = "none"
	}
	if err := CheckCompression(opts.Compression); err != nil {
		return nil, err
	}
	if opts.Priority == 0 {
		opts.Priority = 30
	}
	return &Server{st: st, opts: opts}, nil
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.ErrorLog != nil {
		s.opts.ErrorLog(format, args...)
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/")
	switch {
	case name == "nix-cache-info":
		ci := &CacheInfo{StoreDir: s.st.Dir(), WantMassQuery: true, Priority: s.opts.Priority}
		serveText(w, r, "text/x-nix-cache-info", ci.String())
	case strings.HasSuffix(name, ".narinfo") && !strings.Contains(name, "/"):
		s.serveNarInfo(w, r, strings.TrimSuffix(name, ".narinfo"))
	case strings.HasPrefix(name, "nar/"):
		s.serveNAR(w, r, strings.TrimPrefix(name, "nar/"))
	default:
		http.NotFound(w, r)
	}
}

func serveText(w http.ResponseWriter, r *http.Request, contentType, text string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(text)))
	if r.Method == http.MethodHead {
		return
	}
	io.WriteString(w, text)
}

// lookup finds the valid path with the given hash part.
func (s *Server) lookup(hashPart string) (*local.PathInfo, error) {
	p, err := s.st.QueryPathFromHashPart(hashPart)
	if err != nil || p == "" {
		return nil, err
	}
	return s.st.QueryPathInfo(p)
}

// NarInfo returns the narinfo the server gives for a valid path.
func (s *Server) NarInfo(info *local.PathInfo) (*NarInfo, error) {
	sp, err := store.ParseStorePathBase(info.Path[strings.LastIndexByte(info.Path, '/')+1:])
	if err != nil {
		return nil, err
	}
	ni := narInfoFromPathInfo(info)
	ni.Compression = s.opts.Compression
	ni.URL = "nar/" + sp.HashPart() + "-" + info.NarHash.NixBase32() + narExtension(s.opts.Compression)
	if s.opts.Compression == "none" {
		ni.FileHash, ni.FileSize = info.NarHash, info.NarSize
	}
	if s.opts.SecretKey != nil {
		if _, err := ni.Sign(s.opts.SecretKey); err != nil {
			return nil, err
		}
	}
	return ni, nil
}

func (s *Server) serveNarInfo(w http.ResponseWriter, r *http.Request, hashPart string) {
	info, err := s.lookup(hashPart)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if info == nil {
		http.NotFound(w, r)
		return
	}
	ni, err := s.NarInfo(info)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	serveText(w, r, "text/x-nix-narinfo", ni.String())
}

func (s *Server) serveNAR(w http.ResponseWriter, r *http.Request, name string) {
	method, base, ok := compressionOfName(name)
	hashPart, narHash, ok2 := strings.Cut(base, "-")
	if !ok || !ok2 {
		http.NotFound(w, r)
		return
	}
	info, err := s.lookup(hashPart)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if info == nil {
		http.NotFound(w, r)
		return
	}
	if h, err := nixhash.ParseUnprefixed(narHash, nixhash.SHA256); err != nil || h != info.NarHash {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/x-nix-nar")
	if method == "none" {
		w.Header().Set("Content-Length", strconv.FormatInt(info.NarSize, 10))
	}
	if r.Method == http.MethodHead {
		return
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	cw, err := compressor(bw, method)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if _, err := store.DumpPath(cw, info.Path, nil); err != nil {
		s.logf("serving the NAR of '%s': %v", info.Path, err)
		// Cut the response short: the client sees a truncated NAR.
		panic(http.ErrAbortHandler)
	}
	if err := cw.Close(); err == nil {
		err = bw.Flush()
		if err != nil {
			s.logf("serving the NAR of '%s': %v", info.Path, err)
		}
	}
}
