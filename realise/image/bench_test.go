package image

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// syntheticClosure writes a closure of about total bytes into storeDir:
// a few large paths (a toolchain, a runtime), many small ones, each
// referring to the next larger ones, with contents that compress about
// as well as binaries do (roughly 2.5:1 with gzip).
func syntheticClosure(tb testing.TB, storeDir string, total int64) []PathInfo {
	rng := rand.New(rand.NewSource(1))
	words := strings.Fields("the quick brown fox jumps over lazy dogs lib64 glibc symbol table relocation section header string printf malloc free memcpy strlen .text .data .bss .rodata GLIBC_2.2.5 __libc_start_main")
	fill := func(buf []byte) {
		i := 0
		for i < len(buf) {
			if rng.Intn(1000) < 24 { // incompressible run: ~40% of the bytes
				n := min(64+rng.Intn(256), len(buf)-i)
				rng.Read(buf[i : i+n])
				i += n
				continue
			}
			w := words[rng.Intn(len(words))]
			i += copy(buf[i:], w)
			if i < len(buf) {
				buf[i] = byte(rng.Intn(4))
				i++
			}
		}
	}
	sizes := []int64{total * 30 / 100, total * 20 / 100, total * 10 / 100, total * 10 / 100}
	rest := total * 30 / 100
	for rest > 0 {
		s := min(int64(1+rng.Intn(12))<<20, rest)
		sizes = append(sizes, s)
		rest -= s
	}
	var closure []PathInfo
	buf := make([]byte, 4<<20)
	for i, size := range sizes {
		hash := fmt.Sprintf("%032d", i)
		hash = strings.NewReplacer("0", "a", "1", "b", "2", "c", "3", "d", "4", "f", "5", "g", "6", "h", "7", "i", "8", "j", "9", "k").Replace(hash)
		p := filepath.Join(storeDir, hash+fmt.Sprintf("-pkg%d", i))
		var written int64
		for f := 0; written < size; f++ {
			n := min(size-written, int64(1+rng.Intn(8))<<20)
			dir := filepath.Join(p, "lib", fmt.Sprintf("d%d", f%7))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				tb.Fatal(err)
			}
			file, err := os.Create(filepath.Join(dir, fmt.Sprintf("f%d.so", f)))
			if err != nil {
				tb.Fatal(err)
			}
			for left := n; left > 0; {
				c := min(left, int64(len(buf)))
				fill(buf[:c])
				if _, err := file.Write(buf[:c]); err != nil {
					tb.Fatal(err)
				}
				left -= c
			}
			file.Close()
			written += n
		}
		var refs []string
		for j := 0; j < 4 && j < i; j++ {
			refs = append(refs, closure[j].Path)
		}
		closure = append(closure, PathInfo{Path: p, References: refs, NarSize: size})
	}
	return closure
}

// BenchmarkBuild512MB builds an image of a 512 MiB closure; the MB/s
// figure is closure bytes per second of wall time.
func BenchmarkBuild512MB(b *testing.B) {
	dir := b.TempDir()
	storeDir := filepath.Join(dir, "store")
	os.MkdirAll(storeDir, 0o755)
	const total = 512 << 20
	closure := syntheticClosure(b, storeDir, total)
	spec := &Spec{Name: "bench", StoreDir: storeDir, Closure: closure, Platform: Platform{OS: "linux", Architecture: "amd64"}}
	for _, c := range []string{CompressionGzip, CompressionNone} {
		b.Run(c, func(b *testing.B) {
			spec.Compression = c
			b.SetBytes(total)
			var size int64
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				out := filepath.Join(dir, fmt.Sprintf("out-%s-%d", c, i))
				d, err := Build(context.Background(), spec, out)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				in, err := Inspect(out)
				if err != nil {
					b.Fatal(err)
				}
				size = in.Images[0].Size
				_ = d
				os.RemoveAll(out)
				b.StartTimer()
			}
			b.ReportMetric(float64(total)/float64(size), "ratio")
			// Closure bytes per CPU second (the builder's own work, which
			// other processes on a busy machine do not distort): twice
			// this is the figure for two idle cores.
			b.ReportMetric(float64(total)*float64(b.N)/1e6/(cpuTime()-cpu0).Seconds(), "MB/cpu-s")
		})
	}
}

// cpuTime is the process's user and system time (benchmark set-up
// included, which StopTimer does not exclude: the inspections are
// negligible).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
