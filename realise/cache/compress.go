package cache

import (
	"compress/bzip2"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compressions are the compressions nixl writes NARs with.
var Compressions = []string{"none", "xz", "zstd"}

// CheckCompression reports an error for a compression nixl cannot write.
func CheckCompression(method string) error {
	switch method {
	case "none", "xz", "zstd":
		return nil
	}
	return fmt.Errorf("unsupported compression '%s' (use none, xz or zstd)", method)
}

// narExtension is the file name extension of a NAR compressed with
// method, as Nix names them.
func narExtension(method string) string {
	switch method {
	case "xz":
		return ".nar.xz"
	case "zstd":
		return ".nar.zst"
	case "bzip2":
		return ".nar.bz2"
	}
	return ".nar"
}

// compressionOfName is the compression a NAR file name's extension says.
func compressionOfName(name string) (method, base string, ok bool) {
	for _, m := range []string{"xz", "zstd", "none"} {
		ext := narExtension(m)
		if len(name) > len(ext) && name[len(name)-len(ext):] == ext {
			return m, name[:len(name)-len(ext)], true
		}
	}
	return "", "", false
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// compressor returns a writer compressing into w; Close flushes it (and
// does not close w).
func compressor(w io.Writer, method string) (io.WriteCloser, error) {
	switch method {
	case "none":
		return nopWriteCloser{w}, nil
	case "xz":
		return xz.NewWriter(w)
	case "zstd":
		return zstd.NewWriter(w, zstd.WithEncoderConcurrency(1))
	}
	return nil, CheckCompression(method)
}

type zstdReadCloser struct{ *zstd.Decoder }

func (z zstdReadCloser) Close() error { z.Decoder.Close(); return nil }

// decompressor returns a reader of what r holds compressed with method.
// Closing it does not close r.
func decompressor(r io.Reader, method string) (io.ReadCloser, error) {
	switch method {
	case "none", "":
		return io.NopCloser(r), nil
	case "xz":
		xr, err := xz.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("xz: %w", err)
		}
		return io.NopCloser(xr), nil
	case "zstd":
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zstdReadCloser{d}, nil
	case "bzip2":
		return io.NopCloser(bzip2.NewReader(r)), nil
	}
	return nil, fmt.Errorf("unsupported compression '%s'", method)
}
