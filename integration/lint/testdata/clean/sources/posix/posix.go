// Package posix is a lint fixture.
package posix

import (
	_ "example.com/clean/sources"
)
