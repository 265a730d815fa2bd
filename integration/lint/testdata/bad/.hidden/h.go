// Package h is a lint fixture.
package h

import (
	_ "example.com/fake/integration/harness"
)
