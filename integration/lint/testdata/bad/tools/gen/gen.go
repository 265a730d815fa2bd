// Package gen is a lint fixture.
package gen

import (
	_ "example.com/fake"
	_ "example.com/fake/index"
	_ "example.com/fake/integration/harness"
)
