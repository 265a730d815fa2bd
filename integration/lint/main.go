// Command lint checks what gofmt, go vet and staticcheck do not: the import
// layering of DESIGN.md ("Layout") and the length of functions outside
// tests. The rules are the table layering in rules.go.
//
// Usage:
//
//	go run ./integration/lint [DIR]
//
// DIR, the repository root by default, must hold the go.mod whose module
// path names our packages. Each problem is printed as file:line: message,
// followed by a count. The exit status is 1 when there are problems and 2
// when the tree cannot be checked.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./integration/lint [DIR]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	dir := "."
	switch flag.NArg() {
	case 0:
	case 1:
		dir = flag.Arg(0)
	default:
		flag.Usage()
		os.Exit(2)
	}
	found, err := Check(dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lint: %v\n", err)
		os.Exit(2)
	}
	for _, v := range found {
		fmt.Println(v)
	}
	fmt.Printf("lint: %d problem(s)\n", len(found))
	if len(found) > 0 {
		os.Exit(1)
	}
}
