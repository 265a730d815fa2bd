// Package sub is a lint fixture.
package sub

import (
	_ "example.com/clean/index"
)
