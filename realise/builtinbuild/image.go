package builtinbuild

import "github.com/nixl-project/nixl/realise/image"

// The OCI image builders (builtin:oci-image, builtin:oci-index,
// builtin:oci-pull, builtin:oci-rootfs) live in realise/image, which knows nothing of this
// package; this adapter hands them the build context.
func init() {
	for name, fn := range image.Builders {
		builders[name] = func(c *Context) error {
			return fn(&image.BuildContext{Drv: c.Drv, Outputs: c.Outputs, Env: c.Env,
				BuildDir: c.BuildDir, StoreDir: c.StoreDir, Log: c.Log, Ctx: c.Ctx})
		}
	}
}
