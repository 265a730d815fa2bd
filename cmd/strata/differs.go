package main

import (
	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/mongodb"
)

// differs maps source kinds to the code that computes their @diff
// contents; file sources (posix) compare files and need none.
func differs() map[string]sources.Differ {
	m := map[string]sources.Differ{}
	// The differ only reads stored versions; the URI is never dialled.
	if src, err := mongodb.New(mongodb.Config{URI: "mongodb://127.0.0.1/", Cluster: "diff"}); err == nil {
		m[src.Kind()] = src
	}
	return m
}
