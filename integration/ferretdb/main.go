// Command strata-ferretdb runs FerretDB v1 with its SQLite handler as a
// MongoDB wire-protocol server for strata's integration tests.
//
// It embeds github.com/FerretDB/FerretDB/ferretdb instead of building
// FerretDB's own cmd/ferretdb, whose binary panics at start when built from
// the module zip (build/version/version.txt is empty there).
//
// This is a separate Go module so FerretDB's dependency tree stays out of
// strata's go.mod. integration/ferretdb/up.sh builds and starts it.
//
//	strata-ferretdb -listen 127.0.0.1:27017 -sqlite-dir DIR -log-file FILE
//	strata-ferretdb -ping 127.0.0.1:27017   # exit 0 once it answers a ping
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// options are the command-line flags.
type options struct {
	listen    string
	sqliteDir string
	logFile   string
	logLevel  string
	ping      string
	timeout   time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.listen, "listen", "127.0.0.1:27017", "TCP address to listen on")
	flag.StringVar(&o.sqliteDir, "sqlite-dir", "", "directory holding the SQLite databases (required)")
	flag.StringVar(&o.logFile, "log-file", "", "log file (default: stderr)")
	flag.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	flag.StringVar(&o.ping, "ping", "", "ping the server at this address and exit instead of serving")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Second, "timeout of -ping")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	if o.ping != "" {
		err = ping(ctx, o.ping, o.timeout)
	} else {
		err = serve(ctx, o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "strata-ferretdb:", err)
		os.Exit(1)
	}
}

// serve runs FerretDB until ctx is cancelled (SIGINT or SIGTERM).
func serve(ctx context.Context, o options) error {
	if o.sqliteDir == "" {
		return fmt.Errorf("-sqlite-dir is required")
	}
	dir, err := filepath.Abs(o.sqliteDir)
	if err != nil {
		return fmt.Errorf("sqlite dir %s: %w", o.sqliteDir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create sqlite dir %s: %w", dir, err)
	}
	logger, closeLog, err := newLogger(o.logFile, o.logLevel)
	if err != nil {
		return err
	}
	defer closeLog()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: o.listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
	})
	if err != nil {
		return fmt.Errorf("start ferretdb on %s: %w", o.listen, err)
	}
	logger.Info("strata-ferretdb serving", "uri", f.MongoDBURI(), "sqlite", dir)
	return f.Run(ctx)
}

// newLogger returns a text logger writing to path (stderr when empty).
func newLogger(path, level string) (*slog.Logger, func(), error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, nil, fmt.Errorf("log level %q: %w", level, err)
	}
	var w io.Writer = os.Stderr
	closeFn := func() {}
	if path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("open log file %s: %w", path, err)
		}
		w, closeFn = f, func() { _ = f.Close() }
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl})), closeFn, nil
}
