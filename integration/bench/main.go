// Command bench compares strata with restic, side by side, on the same
// generated data, and prints a table of ratios against the project's
// targets. Run it from the repository root as root (it drops the page cache
// and mounts FUSE file systems):
//
//	go run ./integration/bench                         # 2 GiB + 100,000 files
//	go run ./integration/bench -size 256MiB -files 10000   # quick check of the harness
//	go run ./integration/bench -mongo-only -mongo-size 64MiB  # quick check of the MongoDB part
//	go run ./integration/bench -sql-only -sql-size 1GiB       # PostgreSQL and MariaDB: strata vs pg_dump/pg_restore, mariadb-dump/mariadb
//	go run ./integration/bench -real=false                # generated data only
//
// Every figure is measured against restic 0.18.1 in the same run, on the
// generated data sets and on a real-world tree (the Linux kernel source of
// two Debian releases of linux-source-6.1, fetched with apt-get download).
//
//	go run ./integration/bench -cass-only -cass-size 1GiB    # Cassandra: strata vs cqlsh COPY
//
// The MongoDB part (skipped with -mongo-size 0) needs the FerretDB servers:
// `integration/servers.sh up ferretdb`.
//
// Data is generated deterministically (seeded) under -cache and reused by
// later runs; repositories, restores and mounts of a run live under
// <cache>/run and are removed at the start of the next run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

// config is what the flags set.
type config struct {
	size     int64  // bytes of the main data set
	files    int    // files of the many-files data set
	seed     uint64 // data generator seed
	cache    string // data and run directory
	strata   string // strata binary; empty: build ./cmd/strata
	restic   string // restic binary; empty: find or install
	tools    []string
	verify   bool
	prepare  bool // generate the data and stop
	repoRoot string
	// compression is strata init --compression of the directory sets'
	// stores; empty is what a new store gets.
	compression string

	real           bool   // run the real-world tree part
	realV1, realV2 string // its two releases (Debian versions of realPackage)

	mongoSize       int64 // bytes of the generated collection; 0 skips the MongoDB part
	mongoOnly       bool  // skip the directory (restic) part
	mongoURI        string
	mongoRestoreURI string

	sqlSize  int64  // bytes of the generated PostgreSQL table; 0 skips the relational part
	sqlOnly  bool   // run only the relational part
	sqlURI   string // PostgreSQL server (without a database)
	sqlKinds string // databases of the relational part: postgres,mariadb
	myURI    string // MariaDB server (DSN without a database)
	hdfsSize int64  // bytes of the HDFS tree; 0 (the default) skips the HDFS part
	hdfsOnly bool   // skip the directory and MongoDB parts
	// hdfsLevels are the strata stores' compression levels of the HDFS
	// part, one store (and backup) each.
	hdfsLevels []string
	cassSize   int64 // bytes of payload of the generated Cassandra table; 0 skips the Cassandra part
	cassOnly   bool  // run only the Cassandra part
	cassRow    int   // bytes of payload per generated Cassandra row
	// repeat is how many times the short, noisy steps run (medianOf).
	repeat int
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	unlock, err := lockCache(cfg.cache)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	defer unlock()
	run := run
	if cfg.sqlOnly {
		run = runSQL
	}
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// realFlags are the real-world tree's flags.
func realFlags(fs *flag.FlagSet, cfg *config) {
	fs.BoolVar(&cfg.real, "real", true, "also measure a real-world tree ("+realPackage+" from the Debian mirror, two releases)")
	fs.StringVar(&cfg.realV1, "real-v1", "6.1.170-3", "first release of the real tree (apt-cache madison "+realPackage+")")
	fs.StringVar(&cfg.realV2, "real-v2", "6.1.176-1", "second release, synced over the first")
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	size := fs.String("size", "2GiB", "size of the main data set (e.g. 256MiB, 2GiB)")
	fs.IntVar(&cfg.files, "files", 100_000, "files in the many-files data set (for ls -lR)")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the data generator")
	fs.StringVar(&cfg.cache, "cache", "/var/tmp/strata-bench", "directory for generated data (reused) and the run's repositories (in its run/, which every run, -prepare too, deletes first)")
	fs.StringVar(&cfg.strata, "strata", "", "strata binary (default: go build ./cmd/strata into the cache)")
	fs.StringVar(&cfg.restic, "restic", "", "restic binary (default: restic "+resticVersion+", built once with go install into -cache)")
	tools := fs.String("tools", "strata,restic", "tools to measure, comma-separated")
	fs.BoolVar(&cfg.verify, "verify", true, "check restored trees against the source")
	fs.IntVar(&cfg.repeat, "repeat", 3, "runs of the generated set's and the real tree's first backups (each into a new store) and second backups (each from the state before it), of the real tree's no-change re-backup, of each cold tar and cold ls -lR (restic's once) and of each mount cold read; the median is reported. The tools take turns on the generated set's backups, the real tree's second backup and its no-change re-backup, and each of strata's cold tar and ls -lR runs follows one of the source directory's")
	fs.BoolVar(&cfg.prepare, "prepare", false, "only generate (or reset) the data sets, then exit; like any run it first deletes the previous run's repositories (-cache's run/)")
	fs.StringVar(&cfg.repoRoot, "repo", ".", "strata source tree (where go.mod is)")
	fs.StringVar(&cfg.compression, "compression", "", "strata init --compression level of the generated and real-tree sets' stores (fastest, default, better, off); empty: what a new store gets")
	realFlags(fs, &cfg)
	mongoSize := fs.String("mongo-size", "1GiB", "size of the generated MongoDB collection; 0 skips the MongoDB part")
	fs.BoolVar(&cfg.mongoOnly, "mongo-only", false, "run only the MongoDB part (no restic, no directory data sets)")
	fs.StringVar(&cfg.mongoURI, "mongo-uri", "mongodb://127.0.0.1:27017/", "MongoDB (FerretDB) holding the generated collection")
	fs.StringVar(&cfg.mongoRestoreURI, "mongo-restore-uri", "mongodb://127.0.0.1:27018/", "MongoDB (FerretDB) the restores load into")
	sqlSize := fs.String("sql-size", "1GiB", "size of the generated PostgreSQL table (with -sql-only)")
	fs.BoolVar(&cfg.sqlOnly, "sql-only", false, "run only the relational part: strata vs pg_dump/pg_restore")
	fs.StringVar(&cfg.sqlURI, "sql-uri", "postgres://strata@127.0.0.1:55432", "PostgreSQL server of the relational part")
	fs.StringVar(&cfg.sqlKinds, "sql-kinds", "postgres,mariadb", "databases of the relational part, comma-separated")
	fs.StringVar(&cfg.myURI, "mysql-uri", "strata:strata@tcp(127.0.0.1:53306)/", "MariaDB server of the relational part")
	hdfsSize := fs.String("hdfs-size", "0", "size of the HDFS tree (e.g. 2GiB; needs integration/servers.sh up hdfs); 0 skips the HDFS part")
	fs.BoolVar(&cfg.hdfsOnly, "hdfs-only", false, "run only the HDFS part (with -hdfs-size)")
	hdfsLevels := fs.String("hdfs-compression", "default", "strata init --compression levels of the HDFS part, comma-separated: one store each (e.g. fastest,default,off); default is what a new store gets")
	cassSize := fs.String("cass-size", "0", "payload of the generated Cassandra table (e.g. 1GiB; starts the Cassandra clusters); 0 skips the Cassandra part")
	fs.BoolVar(&cfg.cassOnly, "cass-only", false, "run only the Cassandra part")
	fs.IntVar(&cfg.cassRow, "cass-row-bytes", 1024, "payload per row of the generated Cassandra table (at least 32)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if err := cfg.sizes(*size, *sqlSize, *mongoSize, *hdfsSize, *cassSize); err != nil {
		return cfg, err
	}
	if cfg.mongoOnly && cfg.mongoSize == 0 {
		return cfg, fmt.Errorf("-mongo-only with -mongo-size 0 leaves nothing to run")
	}
	if cfg.files < 1 {
		return cfg, fmt.Errorf("-files must be positive")
	}
	if cfg.repeat < 1 || cfg.repeat > 25 {
		return cfg, fmt.Errorf("-repeat %d: want 1 to 25 runs", cfg.repeat)
	}
	cfg.hdfsLevels = strings.Split(*hdfsLevels, ",")
	cfg.tools = strings.Split(*tools, ",")
	for _, t := range cfg.tools {
		if t != "strata" && t != "restic" {
			return cfg, fmt.Errorf("-tools: unknown tool %q (strata, restic)", t)
		}
	}
	var err error
	cfg.cache, err = filepath.Abs(cfg.cache)
	return cfg, err
}

// sizes parses the size flags into c.
func (c *config) sizes(size, sqlSize, mongoSize, hdfsSize, cassSize string) error {
	n, err := parseSize(size)
	if err != nil {
		return fmt.Errorf("-size: %w", err)
	}
	c.size = n
	if c.sqlSize, err = parseSize(sqlSize); err != nil {
		return fmt.Errorf("-sql-size: %w", err)
	}
	if mongoSize != "0" {
		if c.mongoSize, err = parseSize(mongoSize); err != nil {
			return fmt.Errorf("-mongo-size: %w", err)
		}
	}
	if hdfsSize != "0" {
		if c.hdfsSize, err = parseSize(hdfsSize); err != nil {
			return fmt.Errorf("-hdfs-size: %w", err)
		}
	}
	if cassSize != "0" {
		if c.cassSize, err = parseSize(cassSize); err != nil {
			return fmt.Errorf("-cass-size: %w", err)
		}
	}
	if c.cassOnly {
		if c.cassSize == 0 {
			return fmt.Errorf("-cass-only needs -cass-size")
		}
		c.mongoOnly, c.mongoSize = false, 0
	}
	return nil
}
