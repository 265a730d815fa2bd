// Package local is a lint fixture.
package local

import (
	_ "example.com/clean/backends"
)
