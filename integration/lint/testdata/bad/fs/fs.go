// Package fs is a lint fixture.
package fs

import (
	_ "example.com/fake/daemon"
	_ "example.com/fake/index"
	_ "example.com/fake/sources"
)
