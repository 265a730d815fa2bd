// Command tool is a lint fixture.
package main

import (
	_ "example.com/clean/daemon/engine"
	_ "example.com/clean/sources"
)

func main() {}
