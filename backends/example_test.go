package backends_test

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/stratabackup/strata/backends"
)

// Open takes a directory, a remote from rclone's config ("remote:path") or
// an on-the-fly remote; here a directory.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "strata-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	b, err := backends.Open(ctx, dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := b.Put(ctx, "packs/ab/ab12", []byte("hello, packs")); err != nil {
		fmt.Println(err)
		return
	}
	rc, err := b.Get(ctx, "packs/ab/ab12", 7, 5) // 5 bytes from offset 7
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rc.Close()
	part, _ := io.ReadAll(rc)
	fmt.Println(string(part))
	// Output: packs
}
