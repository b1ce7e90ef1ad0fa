package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// DownloadOptions configure one download.
type DownloadOptions struct {
	// Client is the HTTP client; nil means a client that follows up to 10
	// redirects and uses the proxies named in the environment.
	Client *http.Client
	// InsecureTLS skips the verification of HTTPS certificates, as Nix's
	// builtin:fetchurl does (the result's hash is checked anyway).
	InsecureTLS bool
	// IfNoneMatch is an ETag from an earlier download of the same URL: a
	// server that answers 304 Not Modified makes the download return
	// with NotModified set and nothing written.
	IfNoneMatch string
}

// Response describes a finished download.
type Response struct {
	// URL is where the content finally came from, after redirects.
	URL string
	// ETag and LastModified are the server's validators, if it sent any.
	ETag         string
	LastModified time.Time
	// NotModified is set when the server confirmed IfNoneMatch.
	NotModified bool
	// Size is the number of bytes written.
	Size int64
}

// DownloadError is a failed download: the URL and, for HTTP, the status
// the server answered with.
type DownloadError struct {
	URL string
	// Status is the HTTP status code, or 0 when the failure was not an
	// HTTP answer (connection refused, file not found…).
	Status int
	// Reason says what went wrong.
	Reason string
}

func (e *DownloadError) Error() string {
	return fmt.Sprintf("unable to download '%s': %s", e.URL, e.Reason)
}

// Download copies the contents at rawURL (http, https or file) to w,
// following redirects, and stops when ctx is cancelled.
func Download(ctx context.Context, rawURL string, w io.Writer, opts DownloadOptions) (*Response, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &DownloadError{URL: rawURL, Reason: fmt.Sprintf("invalid URL: %v", err)}
	}
	switch u.Scheme {
	case "file":
		return downloadFile(ctx, rawURL, u, w)
	case "http", "https":
		return downloadHTTP(ctx, rawURL, w, opts)
	}
	return nil, &DownloadError{URL: rawURL, Reason: fmt.Sprintf("unsupported URL scheme '%s' (only http, https and file are supported)", u.Scheme)}
}

func downloadFile(ctx context.Context, rawURL string, u *url.URL, w io.Writer) (*Response, error) {
	if u.Host != "" && u.Host != "localhost" {
		return nil, &DownloadError{URL: rawURL, Reason: fmt.Sprintf("file URL names the remote host '%s'", u.Host)}
	}
	p := u.Path
	if p == "" {
		p = u.Opaque
	}
	f, err := os.Open(p)
	if err != nil {
		reason := err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			reason = fmt.Sprintf("file '%s' does not exist", p)
		}
		return nil, &DownloadError{URL: rawURL, Reason: reason}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &DownloadError{URL: rawURL, Reason: err.Error()}
	}
	if fi.IsDir() {
		return nil, &DownloadError{URL: rawURL, Reason: fmt.Sprintf("'%s' is a directory", p)}
	}
	n, err := io.Copy(w, &ctxReader{ctx: ctx, r: f})
	if err != nil {
		return nil, &DownloadError{URL: rawURL, Reason: err.Error()}
	}
	return &Response{URL: rawURL, LastModified: fi.ModTime(), Size: n}, nil
}

// defaultClient is shared by downloads without a client of their own.
var defaultClient = &http.Client{Transport: newTransport(false)}

// insecureClient skips certificate checks.
var insecureClient = &http.Client{Transport: newTransport(true)}

func newTransport(insecure bool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if insecure {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	return t
}

func downloadHTTP(ctx context.Context, rawURL string, w io.Writer, opts DownloadOptions) (*Response, error) {
	client := opts.Client
	if client == nil {
		client = defaultClient
		if opts.InsecureTLS {
			client = insecureClient
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &DownloadError{URL: rawURL, Reason: err.Error()}
	}
	req.Header.Set("User-Agent", "nixl (Nix-compatible)")
	// Compressed transfers would change the bytes that are hashed: ask
	// for the content as it is.
	req.Header.Set("Accept-Encoding", "identity")
	if opts.IfNoneMatch != "" {
		req.Header.Set("If-None-Match", opts.IfNoneMatch)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, &DownloadError{URL: rawURL, Reason: httpErrorReason(err)}
	}
	defer resp.Body.Close()
	out := &Response{URL: resp.Request.URL.String(), ETag: resp.Header.Get("ETag")}
	if lm := resp.Header.Get("Last-Modified"); lm != "" {
		if t, err := http.ParseTime(lm); err == nil {
			out.LastModified = t
		}
	}
	if resp.StatusCode == http.StatusNotModified && opts.IfNoneMatch != "" {
		out.NotModified = true
		return out, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		reason := fmt.Sprintf("HTTP error %d (%s)", resp.StatusCode, strings.TrimPrefix(resp.Status, fmt.Sprintf("%d ", resp.StatusCode)))
		if out.URL != rawURL {
			reason += fmt.Sprintf(" from '%s'", out.URL)
		}
		return nil, &DownloadError{URL: rawURL, Status: resp.StatusCode, Reason: reason}
	}
	n, err := io.Copy(w, resp.Body)
	out.Size = n
	if err != nil {
		return nil, &DownloadError{URL: rawURL, Reason: httpErrorReason(err)}
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return nil, &DownloadError{URL: rawURL, Reason: fmt.Sprintf("transfer ended after %d of %d bytes", n, resp.ContentLength)}
	}
	return out, nil
}

// httpErrorReason words a transport error without repeating the URL.
func httpErrorReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.Canceled) {
		return "interrupted"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

// ctxReader stops reading once its context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// DownloadToFile downloads rawURL into a new file at path (mode 0644).
// The file is removed again when the download fails.
func DownloadToFile(ctx context.Context, rawURL, path string, opts DownloadOptions) (*Response, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	resp, err := Download(ctx, rawURL, f, opts)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil || resp.NotModified {
		os.Remove(path)
	}
	return resp, err
}
