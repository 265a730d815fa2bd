// Package fs is a lint fixture.
package fs

import (
	_ "example.com/clean/index"
	_ "example.com/clean/index/sub"
	_ "example.com/clean/sources"
)
