package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/nixl-project/nixl/realise/image"
)

func init() {
	register(&command{name: "image", summary: "export, push and inspect OCI images built with nixl.image", run: func(c *cli, args []string) int {
		return c.imageCmd(args)
	}})
}

// imageSub is one subcommand of 'nixl image'.
type imageSub struct {
	name, args, summary string
	flags               func(fs *pflag.FlagSet) func(c *cli, args []string) int
}

var imageSubs = []imageSub{
	{"export", "RESULT -o FILE", "write an image as an OCI archive or a Docker archive (for docker load)", imageExport},
	{"inspect", "RESULT", "print an image's manifest, configuration and layers with the store paths in each", imageInspect},
	{"push", "RESULT REF", "upload an image or index to a registry (credentials from the Docker configuration)", imagePush},
}

func (c *cli) imageUsage(w io.Writer) {
	fmt.Fprint(w, "Usage: nixl image SUBCOMMAND [FLAGS] [ARGS]\n\nSubcommands:\n")
	for _, sub := range imageSubs {
		fmt.Fprintf(w, "  %-8s %s\n", sub.name, sub.summary)
	}
	fmt.Fprint(w, joinLines("",
		"RESULT is the output of nixl.image.build, .index or .pull (an OCI image",
		"layout directory), such as the result link of 'nixl build'.",
		"",
		"Run 'nixl image SUBCOMMAND --help' for the flags of a subcommand."))
}

func (c *cli) imageCmd(args []string) int {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		w := c.stdout
		if len(args) == 0 {
			w = c.stderr
		}
		c.imageUsage(w)
		if len(args) == 0 {
			return 1
		}
		return 0
	}
	for _, sub := range imageSubs {
		if sub.name != args[0] {
			continue
		}
		fs := pflag.NewFlagSet("image "+sub.name, pflag.ContinueOnError)
		fs.SetOutput(c.stderr)
		run := sub.flags(fs)
		fs.Usage = func() {
			summary := sub.summary
			if summary != "" {
				summary = strings.ToUpper(summary[:1]) + summary[1:]
			}
			fmt.Fprintf(c.stderr, "Usage: nixl image %s [FLAGS] %s\n\n%s.\n\nFlags:\n%s", sub.name, sub.args, summary, fs.FlagUsages())
		}
		if rc, stop := c.parseFlags(fs, args[1:]); stop {
			return rc
		}
		return run(c, fs.Args())
	}
	fmt.Fprintf(c.stderr, "error: unknown image subcommand '%s'\n", args[0])
	c.imageUsage(c.stderr)
	return 1
}

// parsePlatform reads "os/arch[/variant]" or a Nix system.
func parsePlatform(s string) (*image.Platform, error) {
	if s == "" {
		return nil, nil
	}
	if parts := strings.Split(s, "/"); len(parts) == 2 || len(parts) == 3 {
		p := &image.Platform{OS: parts[0], Architecture: parts[1]}
		if len(parts) == 3 {
			p.Variant = parts[2]
		}
		return p, nil
	}
	p, err := image.PlatformOf(s)
	if err != nil {
		return nil, fmt.Errorf("invalid platform '%s' (expected os/arch[/variant] or a system such as x86_64-linux)", s)
	}
	return &p, nil
}

func imageExport(fs *pflag.FlagSet) func(c *cli, args []string) int {
	format := fs.String("format", "oci-archive", "`FORMAT` of the archive: oci-archive or docker-archive")
	output := fs.StringP("output", "o", "", "write the archive to `FILE` ('-': standard output)")
	platform := fs.String("platform", "", "for docker-archive of an index: the image of `PLATFORM` (os/arch[/variant] or a system)")
	tag := fs.String("tag", "", "for docker-archive: the `NAME:TAG` docker load gives the image (default: the image's own)")
	return func(c *cli, args []string) int {
		if len(args) != 1 || *output == "" {
			fs.Usage()
			return 1
		}
		p, err := parsePlatform(*platform)
		if err != nil {
			return c.errorf("%v", err)
		}
		var write func(w io.Writer) error
		switch *format {
		case "oci-archive", "oci":
			write = func(w io.Writer) error { return image.ExportOCIArchive(args[0], w) }
		case "docker-archive", "docker":
			write = func(w io.Writer) error { return image.ExportDockerArchive(args[0], w, p, *tag) }
		default:
			return c.errorf("unknown format '%s' (oci-archive or docker-archive)", *format)
		}
		if *output == "-" {
			if err := write(c.stdout); err != nil {
				return c.errorf("%v", err)
			}
			return 0
		}
		// Write next to the destination, then rename: no half-written
		// archive under the final name.
		tmp, err := os.CreateTemp(filepath.Dir(*output), "."+filepath.Base(*output)+".tmp-")
		if err != nil {
			return c.errorf("cannot write '%s': %v", *output, unwrapPathError(err))
		}
		err = write(tmp)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(tmp.Name(), 0o644)
		}
		if err == nil {
			err = os.Rename(tmp.Name(), *output)
		}
		if err != nil {
			os.Remove(tmp.Name())
			return c.errorf("%v", err)
		}
		return 0
	}
}

func imageInspect(fs *pflag.FlagSet) func(c *cli, args []string) int {
	asJSON := fs.Bool("json", false, "print JSON")
	return func(c *cli, args []string) int {
		if len(args) != 1 {
			fs.Usage()
			return 1
		}
		in, err := image.Inspect(args[0])
		if err != nil {
			return c.errorf("%v", err)
		}
		if *asJSON {
			enc := json.NewEncoder(c.stdout)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(in); err != nil {
				return c.errorf("%v", err)
			}
			return 0
		}
		in.WriteText(c.stdout)
		return 0
	}
}

func imagePush(fs *pflag.FlagSet) func(c *cli, args []string) int {
	insecure := fs.Bool("insecure", false, "allow plain HTTP (always allowed for localhost and 127.0.0.0/8)")
	jobs := fs.Int("jobs", 4, "upload `N` blobs at once")
	return func(c *cli, args []string) int {
		if len(args) != 2 {
			fs.Usage()
			return 1
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		d, err := image.Push(ctx, args[0], args[1], &image.RemoteOptions{Insecure: *insecure, Jobs: *jobs})
		if err != nil {
			return c.errorf("%v", err)
		}
		fmt.Fprintf(c.stdout, "%s@%s\n", refRepo(args[1]), d)
		return 0
	}
}

// refRepo strips the tag or digest from a reference.
func refRepo(ref string) string {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref = ref[:i]
	}
	return ref
}
