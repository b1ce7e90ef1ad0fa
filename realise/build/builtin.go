package build

import (
	"context"
	"fmt"

	"github.com/nixl-project/nixl/realise/builtinbuild"
	"github.com/nixl-project/nixl/realise/derivation"
)

// runBuiltin runs a "builtin:…" builder in process. Its outputs are
// created in the build's staging directory and moved into the store like
// those of sandboxed builds.
func (b *Builder) runBuiltin(ctx context.Context, drv *derivation.Derivation, env map[string]string, top string, produced map[string]string, lw *logWriter) error {
	fn, ok := builtinbuild.Lookup(drv.Builder)
	if !ok {
		return fmt.Errorf("unsupported builtin builder '%s'", drv.Builder)
	}
	return fn(&builtinbuild.Context{
		Drv:      drv,
		Outputs:  produced,
		Env:      env,
		BuildDir: top,
		StoreDir: string(b.dir),
		Log:      lw,
		Ctx:      ctx,
	})
}
