// Package daemon is a lint fixture.
package daemon

import (
	_ "example.com/fake/backends"
	_ "example.com/fake/cmd/tool"
	_ "example.com/fake/fs"
	_ "example.com/fake/index"
	_ "example.com/fake/integration/harness"
	_ "example.com/fake/sources/posix"
)
