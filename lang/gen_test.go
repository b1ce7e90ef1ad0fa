package lang

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"
)

// genVaried generates about size bytes of Nix source exercising most of
// the syntax, deterministically: a function of its free variables
// returning a list of attribute sets. Both nixl and C++ Nix (2.8) accept
// it, so it serves the side-by-side parse benchmark.
func genVaried(size int) string {
	r := rand.New(rand.NewSource(1))
	var b strings.Builder
	b.WriteString("{ pkgs ? { }, lib ? { }, stdenv ? { }, fetchurl ? (x: x), ... }@args:\n# generated for the parse benchmark\nlet\n  helper = x: y: x + y;\n  inherit (pkgs) hello;\nin [\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, `  (rec {
    name = "pkg-%[1]d";
    version = "%[2]d.%[3]d.%[4]d";
    src = fetchurl {
      url = "https://example.org/releases/${name}-${version}.tar.gz";
      sha256 = "0%[5]x";
    };
    /* a block comment */
    meta.description = ''
      Package number %[1]d.
        Indented line with ${name} and ''${escaped} and '''quotes'''.
    '';
    meta.homepage = http://example.org/pkg%[1]d;
    enableFeature = %[6]t;
    flags = [ "--prefix=${placeholder "out"}" "-O${toString %[3]d}" ./patches/fix-%[1]d.patch ];
    number = %[7]d * 3 + (%[2]d - 1) / 2;
    ratio = %[8]d.%[9]d;
    cmp = if number >= 10 && !enableFeature || number < 3 then "big" else "small";
    merged = { a = 1; } // { b = [ 1 2 3 ] ++ [ 4 ]; } // (with lib; { c = helper 1 2; });
    check = meta ? description && (meta.homepage or null) != null;
    f = { x, y ? %[7]d, ... }@args: assert x != null; let z = x * y; in z - 1;
    g = a: b: c: a (b c);
    dyn = { "${name}-key" = version; "quoted key" = 1; };
    # a line comment
    path = ~/config/file-%[1]d.conf;
    nested.deep.attr.path = "x%[1]d";
  })
`, i, r.Intn(10), r.Intn(20), r.Intn(100), r.Int63(), r.Intn(2) == 0, r.Intn(1000), r.Intn(100), r.Intn(1000))
	}
	b.WriteString("]\n")
	return b.String()
}

var benchFile = flag.String("write-bench-file", "", "write the generated parse benchmark input to this file")

// TestWriteBenchFile writes the benchmark input for testdata/bench/parse.sh.
func TestWriteBenchFile(t *testing.T) {
	if *benchFile == "" {
		t.Skip("only with -write-bench-file")
	}
	if err := os.WriteFile(*benchFile, []byte(genVaried(20<<20)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGeneratedSourceParses(t *testing.T) {
	src := genVaried(64 << 10)
	fset := NewFileSet()
	x, _, err := Parse(fset, "gen.nix", src, Config{BaseDir: "/b", Home: "/h"})
	if err != nil {
		t.Fatal(err)
	}
	globals := []string{"placeholder", "toString", "builtins", "true", "false", "null", "__sub", "__mul", "__div", "__lessThan"}
	if errs := Resolve(fset, x, NewStaticEnv(nil, globals), false); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// BenchmarkParse parses about 20 MB of varied source (MB/s is reported).
func BenchmarkParse(b *testing.B) {
	src := genVaried(20 << 20)
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fset := NewFileSet()
		if _, _, err := Parse(fset, "bench.nix", src, Config{BaseDir: "/tmp"}); err != nil {
			b.Fatal(err)
		}
	}
}
