package engine

import (
	"time"

	"github.com/stratabackup/strata/index"
)

// The store's types as callers of the engine see them: the engine is the
// one package the CLI and the daemon import for workflows.
type (
	// Version is one complete backup of an object.
	Version = index.Version
	// Progress is a running backup's byte and file counts.
	Progress = index.Progress
	// Policy is a retention rule set in forget's terms.
	Policy = index.Policy
	// Decision is forget's verdict on one version.
	Decision = index.Decision
	// CheckResult is what check found.
	CheckResult = index.CheckResult
	// PruneResult is what prune freed.
	PruneResult = index.PruneResult
	// StoreConfig is a store's config (id, format, chunker).
	StoreConfig = index.Config
)

// TimeName formats a version time as it appears in names:
// 2026-11-24T10:00:00Z.
func TimeName(t time.Time) string { return index.TimeName(t) }
