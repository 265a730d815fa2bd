package main

import (
	"os"
	"testing"
)

func TestExpSet(t *testing.T) {
	d := mainSpec("/var/tmp/strata-bench", 2<<30, 1)
	var err error
	if os.Getenv("EXPV") == "2" {
		err = d.toV2()
	} else {
		err = d.ensure()
	}
	if err != nil {
		t.Fatal(err)
	}
}
