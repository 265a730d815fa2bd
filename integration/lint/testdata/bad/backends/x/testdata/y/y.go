// Package y is a lint fixture.
package y

import (
	_ "example.com/fake/cmd/tool"
)
