// Package index is a lint fixture.
package index

import (
	_ "example.com/fake/backends/x"
	_ "example.com/fake/sources"
	_ "example.com/fake/sources/posix"
)
