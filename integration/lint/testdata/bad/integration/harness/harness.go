// Package harness is a lint fixture.
package harness

import (
	_ "example.com/fake/cmd/tool"
	_ "example.com/fake/daemon"
	_ "example.com/fake/index"
)
