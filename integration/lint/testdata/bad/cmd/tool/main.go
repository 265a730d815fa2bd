// Command tool is a lint fixture.
package main

import (
	_ "example.com/fake/daemon"
	_ "example.com/fake/index"
	_ "example.com/fake/sources"
	_ "example.com/fake/sources/posix"
)

func main() {}
