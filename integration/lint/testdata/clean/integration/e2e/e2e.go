// Package e2e is a lint fixture.
package e2e

import (
	_ "example.com/clean/cmd/tool"
	_ "example.com/clean/daemon/engine"
	_ "example.com/clean/index"
)
