// Package bad is a lint fixture.
package bad

import (
	_ "example.com/clean/cmd/tool"
	_ "example.com/clean/integration/e2e"
)
