// Package engine is a lint fixture.
package engine

import (
	_ "example.com/clean/backends/local"
	_ "example.com/clean/fs"
	_ "example.com/clean/index"
	_ "example.com/clean/sources"
	_ "example.com/clean/sources/posix"
)
