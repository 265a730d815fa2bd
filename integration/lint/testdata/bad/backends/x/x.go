// Package x is a lint fixture.
package x

import (
	_ "example.com/fake/backends"
	_ "example.com/fake/index"
)
