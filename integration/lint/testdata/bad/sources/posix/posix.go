// Package posix is a lint fixture.
package posix

import (
	_ "example.com/fake/backends"
	_ "example.com/fake/sources"
)
